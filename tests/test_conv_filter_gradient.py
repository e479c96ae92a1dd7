"""The CPU convolution whose filter gradient is matmuls over shifted input slices
(`nablax.nn.conv_filter_gradient`): the same derivatives as XLA's convolution, in reverse
and forward mode and to second order, for strides, dilations, paddings and groups in one to
three spatial dimensions; and one convolution fewer in a gradient's program, where the
batch is large enough for it."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nablax.nn.conv_filter_gradient import SLICED_MIN_POSITIONS, _sliced_convolution, _xla_convolution, convolution

# (input shape, weight shape, stride, padding pairs, dilation, groups)
CASES = {
    "2d": ((2, 4, 9, 9), (6, 4, 3, 3), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
    "2d strided dilated padded grouped": ((2, 4, 9, 9), (6, 2, 3, 3), (2, 1), ((1, 1), (2, 0)), (1, 2), 2),
    "1d": ((2, 3, 10), (4, 3, 2), (3,), ((1, 2),), (2,), 1),
    "3d": ((1, 2, 5, 6, 7), (3, 2, 2, 3, 2), (1, 2, 1), ((0, 1), (1, 1), (0, 0)), (2, 1, 1), 1),
    "depthwise": ((2, 6, 8, 8), (6, 1, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 6),
}


def _relative_error(got, expected) -> float:
    return float(jnp.abs(got - expected).max() / jnp.abs(expected).max())


@pytest.mark.parametrize("case, dtype", [*((case, jnp.float32) for case in CASES), ("1d", jnp.float64)])
def test_derivatives_are_xlas(case, dtype):
    x_shape, w_shape, stride, pads, dilation, groups = CASES[case]
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal(x_shape), dtype)
    w = jnp.asarray(rng.standard_normal(w_shape), dtype)
    tolerance = 1e-5 if dtype == jnp.float32 else 1e-12

    def loss(convolve):
        return lambda x, w: (convolve(x, w, stride, pads, dilation, groups) ** 2).sum()

    ours, xlas = loss(_sliced_convolution), loss(_xla_convolution)
    for got, expected in zip(jax.grad(ours, (0, 1))(x, w), jax.grad(xlas, (0, 1))(x, w)):
        assert _relative_error(got, expected) < tolerance
    forward = [jax.jvp(lambda w: f(x, w, stride, pads, dilation, groups), (w,), (w,))[1]
               for f in (_sliced_convolution, _xla_convolution)]
    assert _relative_error(*forward) < tolerance
    if case == "2d strided dilated padded grouped":
        second = [jax.grad(lambda w: jax.grad(f, 1)(x, w).sum())(w) for f in (ours, xlas)]
        assert _relative_error(*second) < tolerance


SLICED_BATCH = -(-SLICED_MIN_POSITIONS // 36)  # the smallest batch of 6x6 inputs whose filter gradient is sliced


def _convolutions_in_gradient(convolve, dtype=jnp.float32, batch: int = SLICED_BATCH) -> int:
    x, w = jnp.ones((batch, 3, 6, 6), dtype), jnp.ones((4, 3, 3, 3), dtype)
    loss = lambda x, w: convolve(x, w, (1, 1), ((0, 0), (0, 0)), (1, 1), 1).sum()  # noqa: E731
    jaxpr = jax.make_jaxpr(jax.grad(loss, (0, 1)))(x, w)
    return str(jaxpr).count("conv_general_dilated[")


def test_the_filter_gradient_is_no_convolution_on_the_cpu():
    # XLA's gradient is three convolutions (value, input gradient, filter gradient); ours two.
    assert _convolutions_in_gradient(_xla_convolution) == 3
    assert _convolutions_in_gradient(convolution) == 2


def test_small_batches_keep_xlas_convolution():
    # A batch below the threshold: the slices would not pay for themselves.
    assert _convolutions_in_gradient(convolution, batch=SLICED_BATCH - 1) == 3


def test_other_dtypes_keep_xlas_convolution():
    assert _convolutions_in_gradient(convolution, jnp.bfloat16) == 3
