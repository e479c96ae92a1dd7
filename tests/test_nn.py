"""Layers against torch.nn with shared weights: values, gradients, names, init, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import to_numpy
from hypothesis import given, settings
from hypothesis import strategies as st

import nablax as nx

ATOL = 1e-5


def torch_module_with(torch, module, params):
    """`module` (a torch.nn.Module) holding nablax's `params`, by state_dict names."""
    module.load_state_dict({name: torch.from_numpy(np.array(value)) for name, value in nx.state_dict(params).items()})
    return module


def assert_same_forward_and_grads(torch, layer, params, torch_module, x, *, train=False, key=None):
    """Compares outputs and the gradients of <output, cotangent> wrt params and input."""
    # One compiled function per case: far fewer compilations than the same ops run eagerly.
    forward = jax.jit(lambda params, x: jax.vjp(lambda p, x: layer.apply(p, x, train=train, key=key), params, x))
    out, pullback = forward(params, x)
    cotangent = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    param_grads, input_grad = pullback(jnp.asarray(cotangent))

    torch_x = torch.tensor(np.asarray(x), requires_grad=True)
    torch_out = torch_module(torch_x)
    (torch_out * torch.from_numpy(cotangent)).sum().backward()

    np.testing.assert_allclose(np.asarray(out), to_numpy(torch_out), atol=ATOL, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(input_grad), to_numpy(torch_x.grad), atol=ATOL, rtol=1e-5)
    torch_grads = {name: p.grad for name, p in torch_module.named_parameters()}
    ours = nx.state_dict(param_grads)
    assert sorted(ours) == sorted(torch_grads)
    for name, grad in ours.items():
        np.testing.assert_allclose(np.asarray(grad), to_numpy(torch_grads[name]), atol=ATOL, rtol=1e-5, err_msg=name)


@settings(max_examples=15)  # every new shape compiles; fifteen cover the cases
@given(
    in_features=st.integers(1, 12),
    out_features=st.integers(1, 12),
    leading=st.lists(st.integers(1, 4), min_size=0, max_size=2),
    bias=st.booleans(),
)
def test_linear_matches_torch(torch, in_features, out_features, leading, bias):
    layer = nx.nn.Linear(in_features, out_features, bias=bias)
    params = layer.init(in_features * 100 + out_features)
    x = jax.random.normal(jax.random.key(3), (*leading, in_features), jnp.float32)
    module = torch_module_with(torch, torch.nn.Linear(in_features, out_features, bias=bias), params)
    assert_same_forward_and_grads(torch, layer, params, module, x)


def test_linear_params_have_torch_names_layouts_and_repr(torch):
    layer = nx.nn.Linear(3, 2)
    params = layer.init(0)
    reference = torch.nn.Linear(3, 2)
    assert {k: tuple(v.shape) for k, v in nx.state_dict(params).items()} == {
        k: tuple(v.shape) for k, v in reference.state_dict().items()
    }
    assert repr(layer) == repr(reference)
    assert params["weight"].dtype == jnp.float32


def test_linear_init_follows_torch_distribution():
    """U(-1/sqrt(in), 1/sqrt(in)) for weight and bias: bounds, mean and variance."""
    in_features = 256
    params = nx.nn.Linear(in_features, 512).init(7)
    bound = 1 / np.sqrt(in_features)
    for name in ("weight", "bias"):
        values = np.asarray(params[name]).ravel()
        assert values.min() >= -bound and values.max() <= bound
        assert abs(values.mean()) < 0.05 * bound * (10 if name == "bias" else 1)
        assert values.var() == pytest.approx(bound**2 / 3, rel=0.15 if name == "bias" else 0.02)


def test_init_is_deterministic_per_key_and_differs_across_keys():
    model = nx.nn.MLP([4, 8, 2])
    same = jax.tree_util.tree_map(np.array_equal, model.init(0), model.init(jax.random.key(0)))
    assert all(jax.tree_util.tree_leaves(same))
    assert not np.array_equal(model.init(0)["0"]["weight"], model.init(1)["0"]["weight"])


def test_mlp_matches_torch_sequential(torch):
    model = nx.nn.MLP([5, 7, 6, 3], activation=nx.nn.Tanh())
    params = model.init(0)
    reference = torch.nn.Sequential(
        torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3)
    )
    assert sorted(nx.state_dict(params)) == sorted(reference.state_dict())
    assert repr(model) == repr(reference)
    torch_module_with(torch, reference, params)
    assert_same_forward_and_grads(torch, model, params, reference, jax.random.normal(jax.random.key(1), (4, 5), jnp.float32))


ACTIVATIONS = [
    ("ReLU", nx.nn.ReLU(), nx.nn.relu, lambda t: t.nn.ReLU(), lambda t: t.nn.functional.relu),
    ("Sigmoid", nx.nn.Sigmoid(), nx.nn.sigmoid, lambda t: t.nn.Sigmoid(), lambda t: t.sigmoid),
    ("Tanh", nx.nn.Tanh(), nx.nn.tanh, lambda t: t.nn.Tanh(), lambda t: t.tanh),
    ("GELU", nx.nn.GELU(), nx.nn.gelu, lambda t: t.nn.GELU(), lambda t: t.nn.functional.gelu),
    ("GELU-tanh", nx.nn.GELU("tanh"), lambda x: nx.nn.gelu(x, "tanh"), lambda t: t.nn.GELU("tanh"),
     lambda t: lambda x: t.nn.functional.gelu(x, approximate="tanh")),
    ("Softmax", nx.nn.Softmax(dim=1), lambda x: nx.nn.softmax(x, 1), lambda t: t.nn.Softmax(dim=1),
     lambda t: lambda x: t.softmax(x, 1)),
    ("LogSoftmax", nx.nn.LogSoftmax(dim=-1), nx.nn.log_softmax, lambda t: t.nn.LogSoftmax(dim=-1),
     lambda t: lambda x: t.log_softmax(x, -1)),
]


@pytest.mark.parametrize("name, layer, function, torch_layer, torch_function", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_layer_and_function_match_torch(torch, name, layer, function, torch_layer, torch_function):
    # Values around 0 included: relu's gradient at 0 is 0 in both.
    x = jnp.concatenate([jnp.zeros((1, 5), jnp.float32), 3 * jax.random.normal(jax.random.key(0), (3, 5), jnp.float32)])
    module = torch_layer(torch)
    assert repr(layer) == repr(module)
    assert_same_forward_and_grads(torch, layer, {}, module, x)
    torch_out = torch_function(torch)(torch.from_numpy(np.array(x)))
    np.testing.assert_allclose(np.asarray(function(x)), to_numpy(torch_out), atol=ATOL)


@pytest.mark.parametrize("start_dim, end_dim", [(1, -1), (0, -1), (1, 2), (-2, -1), (2, 2)])
def test_flatten_matches_torch(torch, start_dim, end_dim):
    x = jax.random.normal(jax.random.key(0), (2, 3, 4, 5), jnp.float32)
    layer = nx.nn.Flatten(start_dim, end_dim)
    module = torch.nn.Flatten(start_dim, end_dim)
    assert repr(layer) == repr(module)
    assert_same_forward_and_grads(torch, layer, {}, module, x)


def test_dropout_scaling_and_gradients_match_torch(torch):
    p = 0.3
    x = jnp.ones((200, 50), jnp.float32)
    layer = nx.nn.Dropout(p)
    assert repr(layer) == repr(torch.nn.Dropout(p))
    out = layer.apply({}, x, key=jax.random.key(0), train=True)
    torch.manual_seed(0)
    torch_out = torch.nn.functional.dropout(torch.ones(200, 50), p, training=True)
    # Survivors are scaled by exactly the same factor; the dropped fraction is about p.
    assert set(np.unique(np.asarray(out))) == set(np.unique(to_numpy(torch_out)))
    assert np.mean(np.asarray(out) == 0) == pytest.approx(p, abs=0.02)
    grad = jax.grad(lambda x: jnp.sum(layer.apply({}, x, key=jax.random.key(0), train=True)))(x)
    np.testing.assert_array_equal(np.asarray(grad), np.asarray(out))  # d(out)/dx is the scaled mask


def test_dropout_is_identity_in_eval_and_deterministic_per_key():
    x = jax.random.normal(jax.random.key(0), (10, 10), jnp.float32)
    layer = nx.nn.Dropout(0.5)
    np.testing.assert_array_equal(layer.apply({}, x), x)
    a = layer.apply({}, x, key=jax.random.key(1), train=True)
    b = layer.apply({}, x, key=jax.random.key(1), train=True)
    c = layer.apply({}, x, key=jax.random.key(2), train=True)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.all(nx.nn.Dropout(1.0).apply({}, x, train=True) == 0)


def test_sequential_gives_each_dropout_its_own_stream():
    model = nx.nn.Sequential(nx.nn.Dropout(0.5), nx.nn.Dropout(0.5))
    single = nx.nn.Dropout(0.5).apply({}, jnp.ones(1000), key=jax.random.fold_in(jax.random.key(0), 0), train=True)
    both = model.apply({}, jnp.ones(1000), key=jax.random.key(0), train=True)
    # If both layers drew the same mask, `both` would be `single` scaled once more.
    assert not np.array_equal(np.asarray(both) != 0, np.asarray(single) != 0)


def test_errors_name_the_layer_and_the_shapes():
    layer = nx.nn.Linear(3, 1)
    params = layer.init(0)
    with pytest.raises(ValueError, match=r"Linear\(in_features=3, out_features=1, bias=True\).*in_features=3.*\(4, 5\)"):
        layer.apply(params, jnp.ones((4, 5)))
    with pytest.raises(ValueError, match=r"params\['weight'\] has shape \(1, 2\), expected \(1, 3\)"):
        layer.apply(nx.nn.Linear(2, 1).init(0), jnp.ones((4, 3)))
    with pytest.raises(ValueError, match="no 'weight' entry"):
        layer.apply({}, jnp.ones((4, 3)))
    with pytest.raises(ValueError, match="needs a PRNG key"):
        nx.nn.Dropout(0.5).apply({}, jnp.ones(3), train=True)
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nx.nn.Dropout(1.5)
    with pytest.raises(TypeError, match="argument 1 must be a nablax layer"):
        nx.nn.Sequential(nx.nn.ReLU(), lambda x: x)
    with pytest.raises(TypeError, match=r"key must be a jax.random.key\(...\) or an int seed"):
        layer.init("seed")
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        nx.nn.GELU("fast")


def test_layers_are_hashable_so_they_can_be_static_jit_arguments():
    model = nx.nn.MLP([2, 3, 1])
    apply = jax.jit(lambda model, params, x: model.apply(params, x), static_argnums=0)
    assert apply(model, model.init(0), jnp.ones((1, 2))).shape == (1, 1)
    assert hash(model) == hash(nx.nn.MLP([2, 3, 1])) and model == nx.nn.MLP([2, 3, 1])
