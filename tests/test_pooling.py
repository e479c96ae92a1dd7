"""Pooling in both faces against PyTorch: `max_pool1d`/`2d` with `dilation`, `ceil_mode` and
`return_indices`, `avg_pool1d`/`2d` with `ceil_mode`, `count_include_pad` and
`divisor_override`, the adaptive pools (average and max, 1-D and 2-D) and `max_unpool2d`:
values, indices, gradients, grad_fn names, module reprs and PyTorch's errors.

The math is the functional face's (`nablax.nn.pool`, `nablax.nn.adaptive_pool`); the
stateful face records it as one op. Few input shapes on purpose: each compiles a program.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import to_numpy
from torch_diff import assert_same, check, check_raises

import nablax as nx
import nablax.stateful as nxt

RNG = np.random.default_rng(7)
IMAGES = RNG.standard_normal((2, 3, 9, 8)).astype(np.float32)
SIGNALS = IMAGES[:, :, 0]  # (2, 3, 8)
TIES = -np.abs(np.round(IMAGES))  # mostly 0 and -1: ties in every window
INTEGERS = np.round(IMAGES * 10).astype(np.int64)

# name -> (function name, input, keyword arguments); the same call in nablax.nn,
# nablax.stateful.nn.functional and torch.nn.functional.
CASES = {
    "max_pool2d-ceil": ("max_pool2d", IMAGES, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    "max_pool2d-dilated": ("max_pool2d", IMAGES, dict(kernel_size=2, dilation=2)),
    "max_pool2d-dilated-ceil-indices": ("max_pool2d", IMAGES, dict(kernel_size=3, stride=2, padding=1, dilation=(2, 1),
                                                                   ceil_mode=True, return_indices=True)),
    "max_pool2d-indices-ties": ("max_pool2d", TIES, dict(kernel_size=(2, 3), stride=1, return_indices=True)),
    "max_pool2d-indices-unbatched": ("max_pool2d", IMAGES[0], dict(kernel_size=2, padding=1, return_indices=True)),
    "max_pool1d-ceil": ("max_pool1d", SIGNALS, dict(kernel_size=3, stride=2, ceil_mode=True)),
    "max_pool1d-dilated-indices": ("max_pool1d", SIGNALS, dict(kernel_size=3, stride=2, padding=1, dilation=2,
                                                               ceil_mode=True, return_indices=True)),
    "max_pool1d-unbatched-ties": ("max_pool1d", TIES[0, :, 0], dict(kernel_size=2, stride=1)),
    "avg_pool2d-ceil": ("avg_pool2d", IMAGES, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    "avg_pool2d-ceil-not-counting-padding": ("avg_pool2d", IMAGES, dict(kernel_size=3, stride=2, padding=1,
                                                                         ceil_mode=True, count_include_pad=False)),
    "avg_pool2d-ceil-divisor": ("avg_pool2d", IMAGES, dict(kernel_size=(3, 2), stride=(2, 3), ceil_mode=True,
                                                           divisor_override=5)),
    "avg_pool1d-ceil": ("avg_pool1d", SIGNALS, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                                    count_include_pad=False)),
    "avg_pool1d-unbatched": ("avg_pool1d", SIGNALS[0], dict(kernel_size=2, padding=1)),
    "adaptive_avg_pool1d": ("adaptive_avg_pool1d", SIGNALS, dict(output_size=3)),
    "adaptive_avg_pool1d-global": ("adaptive_avg_pool1d", SIGNALS[0], dict(output_size=1)),
    "adaptive_max_pool1d-indices": ("adaptive_max_pool1d", SIGNALS, dict(output_size=5, return_indices=True)),
    "adaptive_max_pool2d": ("adaptive_max_pool2d", IMAGES, dict(output_size=(4, None))),
    "adaptive_max_pool2d-global": ("adaptive_max_pool2d", IMAGES, dict(output_size=1)),
    "adaptive_max_pool2d-indices-ties": ("adaptive_max_pool2d", TIES[0], dict(output_size=(5, 3), return_indices=True)),
}


def first(output):
    return output[0] if isinstance(output, tuple) else output


def cotangent(shape):
    return np.random.default_rng(1).standard_normal(tuple(shape)).astype(np.float32)


def stateful_case(T, name, array, kwargs):
    """The pool's output (values and indices) and the input's gradient of a weighted sum."""
    x = T.tensor(array, requires_grad=True)
    out = getattr(T.nn.functional, name)(x, **kwargs)
    (first(out) * T.tensor(cotangent(first(out).shape))).sum().backward()
    return out, x.grad


@pytest.mark.parametrize("case", list(CASES))
def test_stateful_pools_match_torch(torch, case):
    check(torch, stateful_case, *CASES[case])


@pytest.mark.parametrize("case", list(CASES))
def test_functional_pools_match_torch(torch, case):
    name, array, kwargs = CASES[case]
    pool = getattr(nx.nn, name)

    @jax.jit
    def pool_and_gradient(x):
        out, pullback = jax.vjp(lambda x: pool(x, **kwargs), x)
        cot = jnp.asarray(cotangent(first(out).shape))
        return out, pullback((cot, np.zeros(out[1].shape, jax.dtypes.float0)) if isinstance(out, tuple) else cot)[0]

    out, grad = pool_and_gradient(jnp.asarray(array))
    tx = torch.tensor(array, requires_grad=True)
    expected = getattr(torch.nn.functional, name)(tx, **kwargs)
    (first(expected) * torch.tensor(cotangent(first(expected).shape))).sum().backward()
    np.testing.assert_allclose(np.asarray(first(out)), to_numpy(first(expected)), atol=1e-6)
    if kwargs.get("return_indices"):
        assert np.asarray(out[1]).dtype == np.int64  # the stateful face turned on 64-bit mode
        np.testing.assert_array_equal(np.asarray(out[1]), to_numpy(expected[1]))
    np.testing.assert_allclose(np.asarray(grad), to_numpy(tx.grad), atol=1e-6)


def test_both_ways_of_max_pooling_give_the_same_values_and_gradients():
    """The reduce_window path (no indices, no dilation) and the gathered windows agree."""
    def value_and_gradient(pool):
        out, pullback = jax.vjp(pool, jnp.asarray(TIES))
        return out, pullback(jnp.asarray(cotangent(out.shape)))[0]

    fast = jax.jit(value_and_gradient, static_argnums=0)(lambda x: nx.nn.max_pool2d(x, 3, 2, 1, ceil_mode=True))
    gathered = jax.jit(value_and_gradient, static_argnums=0)(
        lambda x: nx.nn.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True)[0])
    for ours, theirs in zip(fast, gathered):
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


@pytest.mark.parametrize("case", [
    lambda T: T.nn.functional.max_pool2d(T.tensor(INTEGERS), 3, 2, 1, 2, True, True),
    lambda T: T.nn.functional.avg_pool2d(T.tensor(INTEGERS), 3, 2, 1, True, False),
    lambda T: T.nn.functional.avg_pool1d(T.tensor(INTEGERS[:, :, 0]), 3, 2, 1, True),
    lambda T: T.nn.functional.max_pool1d(T.tensor(INTEGERS[:, :, 0]), 2, return_indices=True),
], ids=["max_pool2d", "avg_pool2d", "avg_pool1d", "max_pool1d-indices"])
def test_integer_pools_match_torch(torch, case):
    check(torch, case)


def modules(T):
    nn = T.nn
    return [nn.MaxPool1d(3, 2, 1, 2, True, True), nn.MaxPool1d(2), nn.MaxPool2d((3, 2), stride=1, dilation=(1, 2)),
            nn.MaxPool2d(3, 2, 1, ceil_mode=True, return_indices=True), nn.AvgPool1d(3, 2, 1, True, False),
            nn.AvgPool2d(3, ceil_mode=True, divisor_override=2), nn.AdaptiveAvgPool1d(3),
            nn.AdaptiveMaxPool1d(2, return_indices=True), nn.AdaptiveMaxPool2d((3, None)), nn.AdaptiveMaxPool2d(1)]


def test_stateful_modules_print_and_compute_like_torchs(torch):
    def case(T):
        outputs = []
        for module in modules(T):
            x = T.tensor(SIGNALS if "1d" in type(module).__name__ else IMAGES, requires_grad=True)
            out = module(x)
            (first(out) * T.tensor(cotangent(first(out).shape))).sum().backward()
            outputs.append((repr(module), out, x.grad))
        return outputs

    check(torch, case)
    ours = modules(nxt)
    assert ours[4].kernel_size == (3,) and ours[2].stride == 1 and ours[0].return_indices is True


def test_functional_layers_print_like_torchs_and_pool(torch):
    layers = [nx.nn.MaxPool1d(3, 2, 1, 2, True, True), nx.nn.MaxPool2d([3, 2], stride=1, dilation=(1, 2)),
              nx.nn.AvgPool1d(3, 2, 1, True, False), nx.nn.AvgPool2d(3, ceil_mode=True, divisor_override=2),
              nx.nn.AdaptiveAvgPool1d(3), nx.nn.AdaptiveMaxPool1d(2, True), nx.nn.AdaptiveMaxPool2d((3, None))]
    theirs = [torch.nn.MaxPool1d(3, 2, 1, 2, True, True), torch.nn.MaxPool2d((3, 2), stride=1, dilation=(1, 2)),
              torch.nn.AvgPool1d(3, 2, 1, True, False), torch.nn.AvgPool2d(3, ceil_mode=True, divisor_override=2),
              torch.nn.AdaptiveAvgPool1d(3), torch.nn.AdaptiveMaxPool1d(2, True), torch.nn.AdaptiveMaxPool2d((3, None))]
    for layer, module in zip(layers, theirs):
        assert repr(layer) == repr(module)
        array = SIGNALS if "1d" in type(layer).__name__ else IMAGES
        ours, expected = jax.jit(layer.apply)({}, jnp.asarray(array)), module(torch.tensor(array))
        np.testing.assert_allclose(np.asarray(first(ours)), to_numpy(first(expected)), atol=1e-6)
        if isinstance(expected, tuple):
            np.testing.assert_array_equal(np.asarray(ours[1]), to_numpy(expected[1]))
    assert hash(layers[1]) == hash(nx.nn.MaxPool2d((3, 2), 1, dilation=(1, 2)))


def test_max_pool_indices_under_jit_and_stateful_to_functional():
    pool = jax.jit(lambda x: nx.nn.max_pool2d(x, 2, dilation=2, return_indices=True))
    values, indices = pool(IMAGES)
    eager = nx.nn.max_pool2d(IMAGES, 2, dilation=2, return_indices=True)
    np.testing.assert_array_equal(np.asarray(values), np.asarray(eager[0]))
    np.testing.assert_array_equal(np.asarray(indices), np.asarray(eager[1]))
    model = nxt.nn.Sequential(nxt.nn.MaxPool2d(3, 2, ceil_mode=True), nxt.nn.AdaptiveMaxPool2d(2), nxt.nn.Flatten())
    apply_fn, params = model.to_functional()
    np.testing.assert_array_equal(np.asarray(jax.jit(apply_fn)(params, IMAGES)), model(nxt.tensor(IMAGES)).numpy())


def F(T):
    return T.nn.functional


UNPOOLS = {
    "default": (dict(kernel_size=2), {}),
    "overlapping-output-size": (dict(kernel_size=3, stride=2, padding=1), dict(output_size=(9, 8))),
    "four-entry-output-size": (dict(kernel_size=2, stride=1), dict(output_size=[2, 3, 9, 8])),
}


@pytest.mark.parametrize("case", list(UNPOOLS))
def test_max_unpool2d_inverts_max_pool2d_like_torch_in_both_faces(torch, case):
    pool, extra = UNPOOLS[case]
    stride = pool.get("stride", pool["kernel_size"])
    unpool = dict(kernel_size=pool["kernel_size"], stride=stride, padding=pool.get("padding", 0), **extra)

    def stateful(T):
        x = T.tensor(IMAGES, requires_grad=True)
        values, indices = F(T).max_pool2d(x, return_indices=True, **pool)
        out = F(T).max_unpool2d(values, indices, **unpool)
        (out * T.tensor(cotangent(out.shape))).sum().backward()
        module = T.nn.MaxUnpool2d(unpool["kernel_size"], stride, unpool["padding"])
        return out, x.grad, repr(module), module(values, indices, extra.get("output_size"))

    check(torch, stateful)
    values, indices = nx.nn.max_pool2d(IMAGES, return_indices=True, **pool)
    sizes = extra.get("output_size")
    ours = jax.jit(lambda v: nx.nn.max_unpool2d(v, indices, **unpool))(values)
    expected = torch.nn.functional.max_unpool2d(torch.tensor(np.asarray(values)), torch.tensor(np.asarray(indices)),
                                                **unpool)
    np.testing.assert_array_equal(np.asarray(ours), to_numpy(expected))
    layer = nx.nn.MaxUnpool2d(unpool["kernel_size"], stride, unpool["padding"])
    assert repr(layer) == repr(torch.nn.MaxUnpool2d(unpool["kernel_size"], stride, unpool["padding"]))
    if sizes is None:
        np.testing.assert_array_equal(np.asarray(layer.apply({}, (values, indices))), to_numpy(expected))


def pooled(T, array=IMAGES):
    return F(T).max_pool2d(T.tensor(array), 2, return_indices=True)


UNPOOL_ERRORS = {
    "float indices": lambda T: F(T).max_unpool2d(pooled(T)[0], pooled(T)[1].float(), 2),
    "indices shape": lambda T: F(T).max_unpool2d(pooled(T)[0], pooled(T)[1][..., :1], 2),
    "rank": lambda T: F(T).max_unpool2d(pooled(T)[0][0, 0], pooled(T)[1][0, 0], 2),
    "output_size length": lambda T: F(T).max_unpool2d(*pooled(T), 2, output_size=(1, 2, 3)),
    "output_size range": lambda T: F(T).max_unpool2d(*pooled(T), 2, output_size=(3, 8)),
    "index out of range": lambda T: F(T).max_unpool2d(pooled(T)[0], T.tensor(np.full((2, 3, 4, 4), 630)), 2),
    "integers": lambda T: F(T).max_unpool2d(pooled(T, INTEGERS)[0], pooled(T, INTEGERS)[1], 2),
}


@pytest.mark.parametrize("name", list(UNPOOL_ERRORS))
def test_max_unpool2d_errors_match_torch(torch, name):
    check_raises(torch, UNPOOL_ERRORS[name])


Z2, Z1 = (2, 3, 8, 8), (2, 3, 8)
ERROR_CASES = {
    "max_pool2d dilation zero": lambda T: F(T).max_pool2d(T.zeros(Z2), 2, dilation=0),
    "max_pool2d dilated padding": lambda T: F(T).max_pool2d(T.zeros(Z2), 2, padding=2, dilation=2),
    "max_pool2d dilated padding over half the kernel": lambda T: F(T).max_pool2d(T.zeros(Z2), 3, padding=2,
                                                                                 dilation=2),
    "max_pool2d dilated too small": lambda T: F(T).max_pool2d(T.zeros(1, 2, 4, 4), 3, dilation=2),
    "max_pool2d dilation length": lambda T: F(T).max_pool2d(T.zeros(Z2), 3, dilation=(1, 2, 3)),
    "max_pool2d bool": lambda T: F(T).max_pool2d(T.ones(Z2, dtype=T.bool), 2),
    "max_pool2d ceil negative padding": lambda T: F(T).max_pool2d(T.zeros(Z2), 3, padding=-1, ceil_mode=True),
    "max_pool1d rank": lambda T: F(T).max_pool1d(T.zeros(8), 2),
    "max_pool1d rank 4": lambda T: F(T).max_pool1d(T.zeros(1, 2, 3, 8), 2),
    "max_pool1d zero kernel": lambda T: F(T).max_pool1d(T.zeros(Z1), 0, 0),
    "max_pool1d zero stride": lambda T: F(T).max_pool1d(T.zeros(Z1), 2, 0),
    "max_pool1d padding": lambda T: F(T).max_pool1d(T.zeros(Z1), 2, padding=2),
    "max_pool1d negative padding": lambda T: F(T).max_pool1d(T.zeros(Z1), 2, padding=-1),
    "max_pool1d zero dilation": lambda T: F(T).max_pool1d(T.zeros(Z1), 2, dilation=0),
    "max_pool1d too small": lambda T: F(T).max_pool1d(T.zeros(1, 2, 2), 3),
    "max_pool1d kernel pair": lambda T: F(T).max_pool1d(T.zeros(Z1), (2, 2)),
    "max_pool1d stride pair": lambda T: F(T).max_pool1d(T.zeros(Z1), 2, (1, 1)),
    "max_pool1d padding pair": lambda T: F(T).max_pool1d(T.zeros(Z1), 2, 2, (1, 1)),
    "max_pool1d dilation pair": lambda T: F(T).max_pool1d(T.zeros(Z1), 2, 2, 0, (1, 1)),
    "max_pool1d integers": lambda T: F(T).max_pool1d(T.ones(Z1, dtype=T.long), 2),
    "max_pool1d indices rank": lambda T: F(T).max_pool1d(T.zeros(8), 2, return_indices=True),
    "max_pool1d indices kernel pair": lambda T: F(T).max_pool1d(T.zeros(Z1), (2, 2), return_indices=True),
    "max_pool1d indices zero kernel": lambda T: F(T).max_pool1d(T.zeros(Z1), 0, return_indices=True),
    "max_pool1d indices padding": lambda T: F(T).max_pool1d(T.zeros(Z1), 2, padding=2, return_indices=True),
    "max_pool1d indices zero dilation": lambda T: F(T).max_pool1d(T.zeros(Z1), 2, dilation=0, return_indices=True),
    "max_pool1d indices too small": lambda T: F(T).max_pool1d(T.zeros(1, 2, 2), 3, return_indices=True),
    "avg_pool2d ceil negative padding": lambda T: F(T).avg_pool2d(T.zeros(Z2), 3, padding=-1, ceil_mode=True),
    "avg_pool2d bool": lambda T: F(T).avg_pool2d(T.ones(Z2, dtype=T.bool), 2),
    "avg_pool1d rank": lambda T: F(T).avg_pool1d(T.zeros(8), 2),
    "avg_pool1d zero kernel": lambda T: F(T).avg_pool1d(T.zeros(Z1), 0),
    "avg_pool1d padding": lambda T: F(T).avg_pool1d(T.zeros(Z1), 2, padding=2),
    "avg_pool1d too small": lambda T: F(T).avg_pool1d(T.zeros(1, 2, 2), 3),
    "avg_pool1d kernel pair": lambda T: F(T).avg_pool1d(T.zeros(Z1), (2, 2)),
    "avg_pool1d stride pair": lambda T: F(T).avg_pool1d(T.zeros(Z1), 2, (1, 1)),
    "avg_pool1d bool": lambda T: F(T).avg_pool1d(T.ones(Z1, dtype=T.bool), 2),
    "adaptive_avg_pool1d rank": lambda T: F(T).adaptive_avg_pool1d(T.zeros(8), 2),
    "adaptive_avg_pool1d pair": lambda T: F(T).adaptive_avg_pool1d(T.zeros(Z1), (2, 2)),
    "adaptive_avg_pool1d negative": lambda T: F(T).adaptive_avg_pool1d(T.zeros(Z1), -1),
    "adaptive_avg_pool1d integers": lambda T: F(T).adaptive_avg_pool1d(T.ones(Z1, dtype=T.long), 2),
    "adaptive_max_pool1d rank": lambda T: F(T).adaptive_max_pool1d(T.zeros(8), 2),
    "adaptive_max_pool1d pair": lambda T: F(T).adaptive_max_pool1d(T.zeros(Z1), (2, 2)),
    "adaptive_max_pool1d negative": lambda T: F(T).adaptive_max_pool1d(T.zeros(Z1), -1),
    "adaptive_max_pool1d integers": lambda T: F(T).adaptive_max_pool1d(T.ones(Z1, dtype=T.long), 2),
    "adaptive_max_pool2d rank": lambda T: F(T).adaptive_max_pool2d(T.zeros(8, 8), 2),
    "adaptive_max_pool2d negative": lambda T: F(T).adaptive_max_pool2d(T.zeros(1, 8, 8), -1),
    "adaptive_max_pool2d length": lambda T: F(T).adaptive_max_pool2d(T.zeros(1, 8, 8), (2,)),
    "adaptive_max_pool2d empty input": lambda T: F(T).adaptive_max_pool2d(T.zeros(1, 0, 8), 2),
    "adaptive_max_pool2d integers": lambda T: F(T).adaptive_max_pool2d(T.ones(1, 8, 8, dtype=T.long), 2),
}


@pytest.mark.parametrize("name", list(ERROR_CASES))
def test_stateful_pool_errors_have_torchs_types_and_text(torch, name):
    check_raises(torch, ERROR_CASES[name])


FUNCTIONAL_ERRORS = [
    (lambda: nx.nn.max_pool2d(jnp.ones((1, 4, 4)), 3, padding=2, dilation=2),
     r"max_pool2d: padding should be at most half of kernel_size, got padding=\(2, 2\) and kernel_size=\(3, 3\)"),
    (lambda: nx.nn.max_pool1d(jnp.ones((1, 4)), 3, dilation=2),
     r"max_pool1d: input of shape \(1, 4\) is too small for kernel_size=\(3,\) with padding=\(0,\) and "
     r"dilation=\(2,\): the output would be \(0\)"),
    (lambda: nx.nn.MaxPool1d(2, dilation=0), r"MaxPool1d: dilation must be positive, got 0"),
    (lambda: nx.nn.AvgPool2d(2, divisor_override=0), r"AvgPool2d: divisor_override must be a nonzero int or None"),
    (lambda: nx.nn.avg_pool1d(jnp.ones((2, 3, 4, 4)), 2), r"avg_pool1d: expected a 2-D unbatched \(C, L\) or 3-D"),
    (lambda: nx.nn.AdaptiveMaxPool1d((2, 2)), r"AdaptiveMaxPool1d: output_size must be a positive int or None, got"),
]


@pytest.mark.parametrize("index", range(len(FUNCTIONAL_ERRORS)))
def test_functional_pool_errors_say_what_was_wrong(index):
    make, message = FUNCTIONAL_ERRORS[index]
    with pytest.raises(ValueError, match=message):
        make()


def test_indices_of_a_stateful_pool_have_no_grad_fn_and_are_int64(torch):
    def case(T):
        values, indices = F(T).max_pool2d(T.tensor(IMAGES, requires_grad=True), 2, return_indices=True)
        return values.requires_grad, indices.requires_grad, indices.dtype, indices.grad_fn is None

    results = check(torch, case)
    assert_same(results[1], results[0])
