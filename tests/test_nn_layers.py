"""Convolutions, pools, embeddings, Identity and the newer activations against torch.nn with
shared weights: values, gradients, parameter names, reprs, initialisation and errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import to_numpy
from test_nn import ATOL, assert_same_forward_and_grads, torch_module_with

import nablax as nx

RNG = np.random.default_rng(0)


def data(*shape):
    return jnp.asarray(RNG.standard_normal(shape).astype(np.float32))


def random_params(layer):
    """Params shaped and named as `layer.init` makes them, drawn from N(0, 1) by NumPy: tracing
    init for its shapes skips compiling a random initialiser for every case."""
    shapes = jax.eval_shape(lambda: layer.init(0))
    return jax.tree_util.tree_map(lambda shape: data(*shape.shape), shapes)


def twins(torch, name, kwargs):
    """The nablax layer `nx.nn.<name>(**kwargs)`, its params, and the torch layer holding them."""
    layer = getattr(nx.nn, name)(**kwargs)
    params = random_params(layer)
    module = torch_module_with(torch, getattr(torch.nn, name)(**kwargs), params)
    return layer, params, module


def assert_twins_agree(torch, name, kwargs, x):
    """Same repr, parameter names and shapes, outputs and gradients as the torch layer."""
    layer, params, module = twins(torch, name, kwargs)
    assert repr(layer) == repr(module)
    shapes = {name: tuple(value.shape) for name, value in nx.state_dict(params).items()}
    assert shapes == {name: tuple(value.shape) for name, value in module.state_dict().items()}
    assert_same_forward_and_grads(torch, layer, params, module, x)


def ids(cases):
    return [case[0] for case in cases]


def conv(in_channels, out_channels, kernel_size, **options):
    return dict(in_channels=in_channels, out_channels=out_channels, kernel_size=kernel_size, **options)


CONV_CASES = [
    ("1d", "Conv1d", conv(3, 4, 3), (2, 3, 9)),
    ("1d-stride-padding", "Conv1d", conv(3, 4, 4, stride=2, padding=1), (2, 3, 10)),
    ("1d-same-odd-total", "Conv1d", conv(2, 3, 4, padding="same", dilation=3), (2, 2, 12)),
    ("1d-groups-no-bias", "Conv1d", conv(4, 6, 3, groups=2, bias=False), (2, 4, 8)),
    ("1d-unbatched", "Conv1d", conv(3, 2, 3, padding="valid"), (3, 7)),
    ("2d", "Conv2d", conv(3, 4, 3), (2, 3, 7, 7)),
    ("2d-tuples", "Conv2d", conv(3, 4, (3, 2), stride=(2, 1), padding=(1, 0)), (2, 3, 8, 7)),
    ("2d-same", "Conv2d", conv(3, 4, 3, padding="same"), (2, 3, 6, 5)),
    ("2d-same-even-kernel", "Conv2d", conv(3, 2, (2, 4), padding="same"), (1, 3, 5, 6)),
    ("2d-same-dilated", "Conv2d", conv(2, 2, 3, padding="same", dilation=(2, 1)), (1, 2, 7, 6)),
    ("2d-dilated-strided", "Conv2d", conv(3, 4, 3, stride=2, padding=2, dilation=2), (2, 3, 11, 9)),
    ("2d-depthwise", "Conv2d", conv(4, 8, 3, groups=4, padding=1), (2, 4, 6, 6)),
    ("2d-groups-no-bias", "Conv2d", conv(6, 4, 3, groups=2, stride=2, bias=False), (2, 6, 9, 8)),
    ("2d-unbatched", "Conv2d", conv(3, 4, 3, padding=1), (3, 5, 5)),
    ("2d-1x1", "Conv2d", conv(3, 5, 1), (2, 3, 4, 4)),
    ("2d-kernel-fills-input", "Conv2d", conv(2, 3, 4), (1, 2, 4, 4)),
]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize("case, name, kwargs, shape", CONV_CASES, ids=ids(CONV_CASES))
def test_conv_matches_torch(torch, case, name, kwargs, shape):
    assert_twins_agree(torch, name, kwargs, data(*shape))


FUNCTIONAL_CONV_CASES = [
    ("conv1d", (2, 4, 9), (6, 2, 3), dict(stride=2, padding=1, groups=2)),
    ("conv1d", (3, 9), (2, 3, 2), dict(padding="same")),
    ("conv2d", (2, 3, 6, 7), (4, 3, 3, 2), dict(padding="same", dilation=2)),
    ("conv2d", (2, 4, 8, 8), (4, 2, 3, 3), dict(stride=(2, 1), padding=(0, 1), groups=2)),
]


@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("name, x_shape, w_shape, kwargs", FUNCTIONAL_CONV_CASES)
def test_conv_functions_match_torch(torch, name, x_shape, w_shape, kwargs, with_bias):
    x, weight, bias = data(*x_shape), data(*w_shape), data(w_shape[0]) if with_bias else None
    ours = getattr(nx.nn, name)(x, weight, bias, **kwargs)
    to_torch = lambda a: None if a is None else torch.from_numpy(np.array(a))  # noqa: E731
    theirs = getattr(torch.nn.functional, name)(to_torch(x), to_torch(weight), to_torch(bias), **kwargs)
    np.testing.assert_allclose(np.asarray(ours), to_numpy(theirs), atol=ATOL, rtol=1e-5)


def test_conv_init_follows_torch_distribution():
    """U(-b, b) with b = 1/sqrt(in_channels / groups * prod(kernel_size)), weight and bias."""
    params = nx.nn.Conv2d(6, 256, (3, 5), groups=2).init(3)
    bound = 1 / np.sqrt(3 * 3 * 5)
    for name, var_rtol in (("weight", 0.02), ("bias", 0.2)):
        values = np.asarray(params[name]).ravel()
        assert -bound <= values.min() < -0.9 * bound and 0.9 * bound < values.max() <= bound
        assert values.var() == pytest.approx(bound**2 / 3, rel=var_rtol)


MAX_POOL_CASES = [
    ("kernel-2", dict(kernel_size=2), (2, 3, 8, 8)),
    ("kernel-3-stride-2-padding-1", dict(kernel_size=3, stride=2, padding=1), (2, 3, 9, 7)),
    ("tuples", dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1)), (1, 2, 6, 7)),
    ("overlapping-uneven", dict(kernel_size=3, stride=1), (2, 2, 5, 6)),
    ("leftover-rows-and-columns", dict(kernel_size=2), (1, 2, 5, 7)),
    ("stride-beyond-kernel", dict(kernel_size=2, stride=3), (1, 2, 8, 8)),
    ("unbatched", dict(kernel_size=2, padding=1), (3, 7, 7)),
]
AVG_POOL_CASES = [
    ("kernel-2", dict(kernel_size=2), (2, 3, 8, 8)),
    ("padding-counted", dict(kernel_size=3, stride=2, padding=1), (2, 3, 9, 7)),
    ("padding-not-counted", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False), (2, 3, 9, 7)),
    ("tuples-not-counted", dict(kernel_size=(3, 2), stride=(2, 1), padding=1, count_include_pad=False), (1, 2, 7, 6)),
    ("overlapping", dict(kernel_size=3, stride=1), (2, 2, 5, 6)),
    ("unbatched", dict(kernel_size=2, padding=1), (3, 5, 5)),
]
ADAPTIVE_CASES = [
    ("global", dict(output_size=1), (2, 3, 7, 5)),
    ("divisible", dict(output_size=(5, 7)), (2, 3, 10, 14)),
    ("non-divisible", dict(output_size=(3, 4)), (2, 3, 7, 10)),
    ("keep-height", dict(output_size=(None, 3)), (2, 3, 4, 8)),
    ("larger-than-input", dict(output_size=5), (1, 2, 4, 3)),
    ("same-size", dict(output_size=(4, 4)), (1, 2, 4, 4)),
    ("unbatched", dict(output_size=(3, 2)), (2, 5, 7)),
]
POOL_CASES = (
    [("MaxPool2d-" + c, "MaxPool2d", k, s) for c, k, s in MAX_POOL_CASES]
    + [("AvgPool2d-" + c, "AvgPool2d", k, s) for c, k, s in AVG_POOL_CASES]
    + [("AdaptiveAvgPool2d-" + c, "AdaptiveAvgPool2d", k, s) for c, k, s in ADAPTIVE_CASES]
)


@pytest.mark.parametrize("case, name, kwargs, shape", POOL_CASES, ids=ids(POOL_CASES))
def test_pool_matches_torch(torch, case, name, kwargs, shape):
    assert_twins_agree(torch, name, kwargs, data(*shape))


@pytest.mark.parametrize("padding", [0, 1])
def test_max_pool_gives_ties_and_padding_what_torch_gives(torch, padding):
    """Ties send the gradient to the first maximum of a window; -inf padding never wins,
    even over an all-negative input."""
    x = -jnp.abs(jnp.round(data(2, 2, 6, 6)))  # mostly zeros and -1: ties everywhere
    module = torch.nn.MaxPool2d(3, stride=2, padding=padding)
    assert_same_forward_and_grads(torch, nx.nn.MaxPool2d(3, stride=2, padding=padding), {}, module, x)


def test_pool_functions_match_torch(torch):
    x = data(2, 3, 9, 8)
    tx = torch.from_numpy(np.array(x))
    functional = torch.nn.functional
    pairs = [
        (nx.nn.max_pool2d(x, 3, 2, 1), functional.max_pool2d(tx, 3, 2, 1)),
        (nx.nn.avg_pool2d(x, (3, 2), padding=(1, 0), count_include_pad=False),
         functional.avg_pool2d(tx, (3, 2), padding=(1, 0), count_include_pad=False)),
        (nx.nn.adaptive_avg_pool2d(x, (4, None)), functional.adaptive_avg_pool2d(tx, (4, None))),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(np.asarray(ours), to_numpy(theirs), atol=ATOL, rtol=1e-5)


ACTIVATION_CASES = [
    ("LeakyReLU", "LeakyReLU", {}, "leaky_relu"),
    ("LeakyReLU-0.2", "LeakyReLU", dict(negative_slope=0.2), "leaky_relu"),
    ("ELU", "ELU", {}, "elu"),
    ("ELU-0.5", "ELU", dict(alpha=0.5), "elu"),
    ("SiLU", "SiLU", {}, "silu"),
    ("Softplus", "Softplus", {}, "softplus"),
    ("Softplus-beta-2-threshold-5", "Softplus", dict(beta=2.0, threshold=5.0), "softplus"),
    ("Softplus-beta-0.5", "Softplus", dict(beta=0.5, threshold=10.0), "softplus"),
    ("Identity", "Identity", {}, None),
]
# Kinks (0), the softplus thresholds (2.5 * 2 == 5, 20, 20 * 0.5 == 10), overflow territory (±100).
SPECIAL_VALUES = jnp.array([0.0, 2.5, 20.0, 10.0, 100.0, -100.0, 1e-8, -1e-8], jnp.float32)


@pytest.mark.parametrize("case, name, kwargs, function", ACTIVATION_CASES, ids=ids(ACTIVATION_CASES))
def test_activation_matches_torch_at_kinks_and_thresholds(torch, case, name, kwargs, function):
    x = jnp.concatenate([SPECIAL_VALUES, 3 * data(16)]).reshape(4, 6)
    assert_twins_agree(torch, name, kwargs, x)
    if function is not None:
        theirs = getattr(torch.nn.functional, function)(torch.from_numpy(np.array(x)), **kwargs)
        np.testing.assert_allclose(np.asarray(getattr(nx.nn, function)(x, **kwargs)), to_numpy(theirs), atol=ATOL)


def assert_same_lookup_and_grads(torch, layer, params, module, indices):
    """Outputs and the gradient of <output, cotangent> wrt the table, for integer `indices`."""
    forward = jax.jit(lambda params: jax.vjp(lambda p: layer.apply(p, indices), params))
    out, pullback = forward(params)
    cotangent = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    (grads,) = pullback(jnp.asarray(cotangent))
    torch_out = module(torch.from_numpy(np.array(indices)).long())
    (torch_out * torch.from_numpy(cotangent)).sum().backward()
    np.testing.assert_allclose(np.asarray(out), to_numpy(torch_out), atol=ATOL)
    np.testing.assert_allclose(np.asarray(grads["weight"]), to_numpy(module.weight.grad), atol=ATOL)


EMBEDDING_CASES = [
    ("2d-indices-with-repeats", dict(num_embeddings=10, embedding_dim=3), [[1, 2, 2, 9], [0, 1, 1, 1]]),
    ("1d-indices", dict(num_embeddings=5, embedding_dim=4), [4, 0, 3]),
    ("scalar-index", dict(num_embeddings=5, embedding_dim=4), 3),
    ("padding-idx", dict(num_embeddings=6, embedding_dim=2, padding_idx=0), [[0, 1, 0], [5, 0, 1]]),
    ("negative-padding-idx", dict(num_embeddings=6, embedding_dim=2, padding_idx=-1), [[5, 1, 5], [2, 5, 4]]),
]


@pytest.mark.parametrize("case, kwargs, indices", EMBEDDING_CASES, ids=ids(EMBEDDING_CASES))
def test_embedding_matches_torch_padding_rows_get_no_gradient(torch, case, kwargs, indices):
    layer = nx.nn.Embedding(**kwargs)
    params = {"weight": data(kwargs["num_embeddings"], kwargs["embedding_dim"])}  # a nonzero padding row too
    module = torch_module_with(torch, torch.nn.Embedding(**kwargs), params)
    assert repr(layer) == repr(module)
    assert_same_lookup_and_grads(torch, layer, params, module, jnp.asarray(indices, jnp.int32))
    if layer.padding_idx is not None:  # the function too, given padding_idx as it was written
        def lookup_sum(weight):
            return nx.nn.embedding(jnp.asarray(indices), weight, kwargs["padding_idx"]).sum()
        assert not np.any(np.asarray(jax.grad(lookup_sum)(params["weight"])[layer.padding_idx]))


def test_embedding_init_is_standard_normal_with_padding_row_zeroed():
    weight = np.asarray(nx.nn.Embedding(2000, 64, padding_idx=3).init(0)["weight"])
    assert weight.shape == (2000, 64) and weight.dtype == np.float32
    assert not weight[3].any()
    assert abs(weight.mean()) < 0.01 and weight.std() == pytest.approx(1.0, rel=0.01)


def test_a_small_convnet_matches_torch_sequential(torch):
    """Names, repr, values and gradients through every new layer family at once."""
    def build(nn):
        return nn.Sequential(
            nn.Conv2d(3, 4, 3, padding="same"), nn.LeakyReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, stride=2, groups=2),
            nn.ELU(), nn.AvgPool2d(2, padding=1), nn.AdaptiveAvgPool2d((2, 1)), nn.Flatten(), nn.Identity(),
            nn.Linear(12, 5), nn.SiLU(), nn.Softplus(),
        )
    model, reference = build(nx.nn), build(torch.nn)
    params = random_params(model)
    assert repr(model) == repr(reference)
    assert sorted(nx.state_dict(params)) == sorted(reference.state_dict())
    x = data(2, 3, 16, 12)
    assert model.apply(params, x).dtype == jnp.float32  # float32 stays float32 even with x64 on
    assert_same_forward_and_grads(torch, model, params, torch_module_with(torch, reference, params), x)


def test_layers_normalise_arguments_like_torch_and_stay_hashable():
    assert nx.nn.Conv2d(3, 4, 3) == nx.nn.Conv2d(3, 4, (3, 3), stride=(1, 1))
    assert nx.nn.Conv2d(3, 4, 3).kernel_size == (3, 3)
    assert nx.nn.MaxPool2d(2) == nx.nn.MaxPool2d(2, stride=2)
    assert repr(nx.nn.MaxPool2d([2, 2])) == (
        "MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=0, dilation=1, ceil_mode=False)"
    )
    model = nx.nn.Sequential(nx.nn.Conv1d(2, 2, 3), nx.nn.AdaptiveAvgPool2d([None, 1]), nx.nn.Embedding(4, 2))
    same = nx.nn.Sequential(nx.nn.Conv1d(2, 2, (3,)), nx.nn.AdaptiveAvgPool2d((None, 1)), nx.nn.Embedding(4, 2))
    assert hash(model) == hash(same) and model == same


def conv2d_layer_on(x, kernel_size=3):
    """Conv2d(4, 4, 3) applied, with params made for a kernel of `kernel_size`, to `x`."""
    return nx.nn.Conv2d(4, 4, 3).apply(nx.nn.Conv2d(4, 4, kernel_size).init(0), jnp.ones(x))


CONV = r"Conv2d\(4, 4, kernel_size=\(3, 3\), stride=\(1, 1\)\)"
ERRORS = [
    ("conv-channels", lambda: conv2d_layer_on((1, 3, 5, 5)),
     CONV + r": expected input with 4 channels in dim 1 .* got 3 channels in input of shape \(1, 3, 5, 5\)"),
    ("conv-channels-unbatched", lambda: conv2d_layer_on((3, 5, 5)), r"4 channels in dim 0 .* got 3"),
    ("conv-too-small", lambda: conv2d_layer_on((1, 4, 2, 5)),
     CONV + r": input of shape \(1, 4, 2, 5\) is too small for the kernel: .*\(2 x 5\), dilated kernel size \(3 x 3\)"),
    ("conv-params", lambda: conv2d_layer_on((1, 4, 5, 5), kernel_size=2),
     r"params\['weight'\] has shape \(4, 4, 2, 2\), expected \(4, 4, 3, 3\)"),
    ("conv1d-dilated-too-small", lambda: nx.nn.conv1d(jnp.ones((1, 2, 4)), jnp.ones((1, 2, 3)), dilation=2),
     r"conv1d: .*too small.*\(4\), dilated kernel size \(5\)"),
    ("conv2d-rank", lambda: nx.nn.conv2d(jnp.ones((4, 5)), jnp.ones((1, 4, 3, 3))),
     r"conv2d: expected a 3-D unbatched \(C, H, W\) or 4-D batched \(N, C, H, W\) input, got input of shape \(4, 5\)"),
    ("conv2d-weight-rank", lambda: nx.nn.conv2d(jnp.ones((1, 4, 5, 5)), jnp.ones((1, 4, 3))),
     r"conv2d: weight must be 4-D"),
    ("conv2d-weight-groups", lambda: nx.nn.conv2d(jnp.ones((1, 4, 5, 5)), jnp.ones((3, 2, 3, 3)), groups=2),
     r"dim 0 \(3 out_channels\) must be divisible by groups=2"),
    ("conv2d-strided-same", lambda: nx.nn.conv2d(jnp.ones((1, 4, 5, 5)), jnp.ones((4, 4, 3, 3)), None, 2, "same"),
     r"conv2d: padding='same' is not supported for strided convolutions"),
    ("in-channels-groups", lambda: nx.nn.Conv2d(3, 4, 3, groups=2),
     r"Conv2d: in_channels=3 must be divisible by groups=2"),
    ("out-channels-groups", lambda: nx.nn.Conv2d(4, 3, 3, groups=2),
     r"Conv2d: out_channels=3 must be divisible by groups=2"),
    ("groups", lambda: nx.nn.Conv2d(4, 4, 3, groups=0), r"Conv2d: groups must be a positive int, got 0"),
    ("strided-same", lambda: nx.nn.Conv1d(4, 4, 3, stride=2, padding="same"),
     r"Conv1d: padding='same' is not supported for strided"),
    ("padding-string", lambda: nx.nn.Conv2d(4, 4, 3, padding="full"),
     r"invalid padding string 'full', should be one of 'valid', 'same'"),
    ("kernel-size", lambda: nx.nn.Conv2d(4, 4, (3,)),
     r"Conv2d: kernel_size must be an int or a tuple of 2 ints, got \(3,\)"),
    ("stride", lambda: nx.nn.Conv2d(4, 4, 3, stride=(1, 0)), r"Conv2d: stride must be positive, got \(1, 0\)"),
    ("padding", lambda: nx.nn.Conv2d(4, 4, 3, padding=-1), r"Conv2d: padding must be non-negative, got -1"),
    ("pool-padding", lambda: nx.nn.MaxPool2d(2, padding=2),
     r"MaxPool2d: padding should be at most half of kernel_size, got padding=\(2, 2\)"),
    ("pool-too-small", lambda: nx.nn.AvgPool2d(3).apply({}, jnp.ones((1, 1, 2, 5))),
     r"AvgPool2d\(kernel_size=3, stride=3, padding=0\): input of shape \(1, 1, 2, 5\) is too small .*\(0 x 1\)"),
    ("pool-rank", lambda: nx.nn.max_pool2d(jnp.ones((2, 2)), 2), r"max_pool2d: expected a 3-D unbatched"),
    ("adaptive-size", lambda: nx.nn.AdaptiveAvgPool2d(0),
     r"AdaptiveAvgPool2d: output_size must be a positive int, None or a pair of them, got 0"),
    ("adaptive-pair", lambda: nx.nn.adaptive_avg_pool2d(jnp.ones((1, 4, 4)), (1, 2, 3)),
     r"adaptive_avg_pool2d: .*got \(1, 2, 3\)"),
    ("padding-idx", lambda: nx.nn.Embedding(3, 2, padding_idx=3),
     r"Embedding: padding_idx must be within num_embeddings=3 \(from -3 to 2\), got 3"),
    ("num-embeddings", lambda: nx.nn.Embedding(0, 2), r"Embedding: num_embeddings must be a positive int, got 0"),
]
INDEX_ERRORS = [
    (jnp.array([0, 3]), IndexError, r"Embedding\(3, 2\): index 3 is out of range for num_embeddings=3 \(0 to 2\)"),
    (jnp.array([-1, 0]), IndexError, r"index -1 is out of range"),
    (jnp.array([1.0]), TypeError, r"Embedding\(3, 2\): indices must be integers, got an array of dtype float"),
]


@pytest.mark.parametrize("case, make_error, message", ERRORS, ids=ids(ERRORS))
def test_errors_name_the_layer_and_say_what_was_expected(case, make_error, message):
    with pytest.raises(ValueError, match=message):
        make_error()


@pytest.mark.parametrize("indices, error, message", INDEX_ERRORS, ids=["too-large", "negative", "float"])
def test_embedding_rejects_bad_indices_and_gives_nan_rows_under_jit(indices, error, message):
    layer = nx.nn.Embedding(3, 2)
    with pytest.raises(error, match=message):
        layer.apply(layer.init(0), indices)
    if error is IndexError:  # values unknown while tracing: out-of-range rows come out as NaN
        rows = jax.jit(layer.apply)(layer.init(0), indices)
        assert np.isnan(np.asarray(rows)).any(axis=1).tolist() == (np.asarray(indices) != 0).tolist()
