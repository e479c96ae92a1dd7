"""Normalisation layers against torch.nn, and model state threaded through training."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import to_numpy
from test_nn import assert_same_forward_and_grads, torch_module_with

import nablax as nx

RNG = np.random.default_rng(0)


def data(*shape):
    return jnp.asarray(RNG.standard_normal(shape).astype(np.float32) * 2 + 0.5)


def batch_norm_twins(torch, layer, torch_layer):
    """The nablax layer's params (random affine, to test them) and the torch layer holding them."""
    params = layer.init(0)
    if params:
        params = {name: jnp.asarray(RNG.uniform(0.5, 1.5, value.shape).astype(np.float32)) for name, value in params.items()}
    torch_layer.load_state_dict({name: torch.from_numpy(np.array(v)) for name, v in nx.state_dict(params, layer.init_state()).items()})
    return params


@pytest.mark.parametrize("case", [
    ("1d", (6, 3), {}), ("1d-seq", (4, 3, 5), {}), ("2d", (4, 3, 5, 2), {}),
    ("2d-momentum-none", (4, 3, 2, 2), {"momentum": None}), ("2d-no-affine", (3, 3, 2, 2), {"affine": False}),
    ("1d-no-bias", (5, 3), {"bias": False}),
], ids=lambda c: c[0])
def test_batch_norm_matches_torch_over_steps_in_both_modes(torch, case):
    _, shape, options = case
    two_d = len(shape) == 4
    layer = (nx.nn.BatchNorm2d if two_d else nx.nn.BatchNorm1d)(3, **options)
    torch_layer = (torch.nn.BatchNorm2d if two_d else torch.nn.BatchNorm1d)(3, **options)
    assert repr(layer) == repr(torch_layer)
    params = batch_norm_twins(torch, layer, torch_layer)
    state = layer.init_state()
    step = jax.jit(lambda p, x, s, train: jax.vjp(lambda p, x: layer.apply(p, x, state=s, train=train), p, x, has_aux=True),
                   static_argnums=3)
    for index, train in enumerate([True, True, False, True, False]):
        x = data(*shape)
        torch_layer.train(train)
        torch_x = torch.tensor(np.asarray(x), requires_grad=True)
        torch_out = torch_layer(torch_x)
        out, pullback, state = step(params, x, state, train)
        cotangent = RNG.standard_normal(out.shape).astype(np.float32)
        (torch_out * torch.from_numpy(cotangent)).sum().backward()
        param_grads, input_grad = pullback(jnp.asarray(cotangent))
        np.testing.assert_allclose(np.asarray(out), to_numpy(torch_out), atol=1e-5, rtol=1e-5, err_msg=f"step {index}")
        np.testing.assert_allclose(np.asarray(input_grad), to_numpy(torch_x.grad), atol=1e-5, rtol=1e-4)
        for name, grad in param_grads.items():
            np.testing.assert_allclose(np.asarray(grad), to_numpy(getattr(torch_layer, name).grad), atol=1e-5, rtol=1e-4)
            getattr(torch_layer, name).grad = None
        for name, value in state.items():
            np.testing.assert_allclose(np.asarray(value), to_numpy(getattr(torch_layer, name)), atol=1e-6, rtol=1e-5,
                                       err_msg=f"{name} after step {index}")


@pytest.mark.parametrize("options", [{}, {"elementwise_affine": False}, {"bias": False}])
@pytest.mark.parametrize("normalized_shape", [4, (3, 4)])
def test_layer_norm_matches_torch(torch, normalized_shape, options):
    layer = nx.nn.LayerNorm(normalized_shape, **options)
    torch_layer = torch.nn.LayerNorm(normalized_shape, **options)
    assert repr(layer) == repr(torch_layer)
    params = jax.tree_util.tree_map(lambda p: p + jnp.asarray(RNG.uniform(-0.5, 0.5, p.shape), jnp.float32), layer.init(0))
    assert_same_forward_and_grads(torch, layer, params, torch_module_with(torch, torch_layer, params), data(2, 3, 4))


@pytest.mark.parametrize("groups, channels, affine", [(1, 4, True), (2, 4, True), (4, 4, False), (3, 6, True)])
def test_group_norm_matches_torch(torch, groups, channels, affine):
    layer = nx.nn.GroupNorm(groups, channels, affine=affine)
    torch_layer = torch.nn.GroupNorm(groups, channels, affine=affine)
    assert repr(layer) == repr(torch_layer)
    params = jax.tree_util.tree_map(lambda p: p + jnp.asarray(RNG.uniform(-0.5, 0.5, p.shape), jnp.float32), layer.init(0))
    assert_same_forward_and_grads(torch, layer, params, torch_module_with(torch, torch_layer, params), data(3, channels, 5))


def test_state_names_are_torchs_buffers_and_round_trip(torch):
    model = nx.nn.Sequential(nx.nn.Linear(3, 4), nx.nn.BatchNorm1d(4), nx.nn.ReLU(), nx.nn.Linear(4, 2))
    reference = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    assert list(nx.state_dict(model.init(0), model.init_state())) == list(reference.state_dict())
    reference.train()
    reference(torch.randn(8, 3))  # move the running statistics away from their initial values
    params, state = nx.load_state_dict(model.init(0), reference.state_dict(), model.init_state())
    assert int(state["1"]["num_batches_tracked"]) == 1
    reference.eval()
    x = data(5, 3)
    np.testing.assert_allclose(np.asarray(model.apply(params, x, state=state)[0]),
                               to_numpy(reference(torch.tensor(np.asarray(x)))), atol=1e-5)
    back = {name: torch.from_numpy(np.array(value)) for name, value in nx.state_dict(params, state).items()}
    reference.load_state_dict(back)  # and back: same names, shapes and dtypes


def test_models_with_state_train_through_fit_and_steps():
    x = data(64, 3)
    y = (np.asarray(x).sum(axis=1) > 0).astype(np.int32)
    model = nx.nn.Sequential(nx.nn.Linear(3, 16), nx.nn.BatchNorm1d(16), nx.nn.ReLU(), nx.nn.Linear(16, 2))
    assert model.has_state
    loss_fn = nx.supervised_loss(model, nx.losses.cross_entropy, metrics={"accuracy": nx.metrics.accuracy})
    state, history = nx.fit(loss_fn, optax.sgd(0.1), model.init(0), (x, y), epochs=5, batch_size=16, key=0, progress=False)
    assert history["loss"][-1] < history["loss"][0]
    assert int(state.model_state["1"]["num_batches_tracked"]) == 20
    # Fused and per-batch epochs agree on the state too.
    host_state, _ = nx.fit(loss_fn, optax.sgd(0.1), model.init(0), (x, y), epochs=5, batch_size=16, key=0,
                           progress=False, fused=False)
    for ours, theirs in zip(jax.tree_util.tree_leaves(state.model_state), jax.tree_util.tree_leaves(host_state.model_state)):
        np.testing.assert_allclose(ours, theirs, atol=1e-6)
    # Evaluation uses the running statistics and leaves them alone.
    metrics = nx.make_eval_step(loss_fn)(state, (x, y))
    assert 0 <= float(metrics["accuracy"]) <= 1


def test_errors_name_the_layer_and_what_it_needs():
    layer = nx.nn.BatchNorm2d(3)
    params = layer.init(0)
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3, .*\) keeps running statistics and needs its state"):
        layer.apply(params, jnp.ones((2, 3, 4, 4)))
    with pytest.raises(ValueError, match=r"expects 3 channels \(dim 1\), got input of shape \(2, 4, 4, 4\)"):
        layer.apply(params, jnp.ones((2, 4, 4, 4)), state=layer.init_state())
    with pytest.raises(ValueError, match=r"expects 4D input"):
        layer.apply(params, jnp.ones((2, 3)), state=layer.init_state())
    with pytest.raises(ValueError, match="more than 1 value per channel when training"):
        nx.nn.BatchNorm1d(3).apply(params, jnp.ones((1, 3)), state=layer.init_state(), train=True)
    with pytest.raises(ValueError, match=r"GroupNorm: num_channels \(5\) must be divisible by num_groups \(2\)"):
        nx.nn.GroupNorm(2, 5)
    model = nx.nn.Sequential(nx.nn.Linear(2, 3), nx.nn.BatchNorm1d(3))
    step = nx.make_train_step(nx.supervised_loss(model, nx.losses.mse), optax.sgd(0.1))
    with pytest.raises(ValueError, match=r"model_state=model.init_state\(\)"):
        step(nx.TrainState.create(model.init(0), optax.sgd(0.1)), (jnp.ones((4, 2)), jnp.ones((4, 3))))
