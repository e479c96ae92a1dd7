"""Comparing a nablax layer with its torch.nn twin holding the same weights: outputs and the
gradients of <outputs, cotangents> with respect to the parameters and every floating input,
for layers that take several inputs (attention: query, key, value) and return several
outputs (attention weights, recurrent states)."""

import jax
import jax.numpy as jnp
import numpy as np

import nablax as nx

RNG = np.random.default_rng(0)


def data(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def random_params(layer, dtype=np.float32, scale=1.0):
    """Params shaped and named as `layer.init` makes them, from N(0, scale^2) by NumPy (no compile)."""
    shapes = jax.eval_shape(lambda: layer.init(0))
    return jax.tree_util.tree_map(lambda s: jnp.asarray(scale * data(*s.shape, dtype=dtype)), shapes)


def with_params(torch, module, params, dtype=np.float32):
    """`module` holding `params` (by state_dict names), in `dtype`."""
    module = module.double() if dtype == np.float64 else module
    module.load_state_dict({name: torch.from_numpy(np.array(value)) for name, value in nx.state_dict(params).items()})
    return module


def _leaves(outputs):
    return [leaf for leaf in jax.tree_util.tree_leaves(outputs) if leaf is not None]


def assert_matches_torch(torch, forward, params, module, torch_forward, inputs, *, wrt=None, atol=1e-5, rtol=1e-5):
    """`forward(params, *inputs)` against `torch_forward(module, *tensors)`: values, gradients wrt
    params (by state_dict name) and wrt the first `wrt` inputs (all floating ones when None);
    the other inputs (masks) are passed to both as constants."""
    inputs = [np.asarray(x) if x is not None else None for x in inputs]
    candidates = inputs if wrt is None else inputs[:wrt]
    floating = [i for i, x in enumerate(candidates) if x is not None and x.dtype.kind == "f"]

    def outputs(params, *floats):
        filled = list(inputs)
        for index, value in zip(floating, floats):
            filled[index] = value
        return _leaves(forward(params, *filled))

    floats = [inputs[i] for i in floating]
    shapes = jax.eval_shape(outputs, params, *floats)
    cotangents = [np.random.default_rng(1).standard_normal(s.shape).astype(s.dtype) for s in shapes]

    def forward_and_backward(params, *floats):
        outs, pullback = jax.vjp(outputs, params, *floats)
        return outs, pullback([jnp.asarray(c) for c in cotangents])

    # Forward and backward as one compiled program: far cheaper than running the ops eagerly.
    ours, (param_grads, *input_grads) = jax.jit(forward_and_backward)(params, *floats)

    tensors = [None if x is None else torch.from_numpy(x.copy()) for x in inputs]
    for index in floating:
        tensors[index].requires_grad_(True)
    theirs = _leaves(torch_forward(module, *tensors))
    assert len(theirs) == len(ours)
    sum((out * torch.from_numpy(c)).sum() for out, c in zip(theirs, cotangents)).backward()

    for index, (mine, reference) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(np.asarray(mine), reference.detach().numpy(), atol=atol, rtol=rtol, err_msg=f"output {index}")
    for index, grad in zip(floating, input_grads):
        np.testing.assert_allclose(np.asarray(grad), tensors[index].grad.numpy(), atol=atol, rtol=rtol, err_msg=f"input {index}")
    torch_grads = {name: p.grad for name, p in module.named_parameters()}
    mine = nx.state_dict(param_grads)
    assert sorted(mine) == sorted(torch_grads)
    for name, grad in mine.items():
        np.testing.assert_allclose(np.asarray(grad), torch_grads[name].numpy(), atol=atol, rtol=rtol, err_msg=name)


def parameter_names(layer):
    """[(state_dict name, shape)] of `layer.init` in its own order (traced, not run; JAX's
    own pytree functions would sort the names)."""
    names = []
    jax.eval_shape(lambda: names.extend((n, tuple(v.shape)) for n, v in nx.state_dict(layer.init(0)).items()))
    return names


def assert_same_tree(layer, module):
    """Same repr and the same state_dict names, in the same order, with the same shapes."""
    assert repr(layer) == repr(module)
    assert parameter_names(layer) == [
        (n, tuple(v.shape)) for n, v in module.state_dict().items()
    ]
