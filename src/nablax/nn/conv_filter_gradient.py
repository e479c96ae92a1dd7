"""A convolution whose gradient with respect to its filter is a sum of matmuls over shifted
slices of the input, where XLA's own runs slowly: on the CPU.

XLA:CPU computes a convolution's filter gradient as another convolution, which it runs far
below its matmul speed when the channels are many: for a digits CNN's 32-to-64-channel 3x3
layer at batch 64, 108 ms, against 21 ms as nine matmuls (one per kernel offset, each
contracting the output gradient with the input slice that offset sees, over the batch and
the output positions). So on the CPU, `convolution` gives JAX a derivative rule (`custom_jvp`)
whose part in the filter is written that way: linear in the filter's tangent, it transposes
into those matmuls for reverse mode, and it is itself differentiable, so forward mode and
higher derivatives work as before. The value and the part in the input stay XLA's own
convolutions. The slices cost copies of the input, which small batches of small images do
not pay back: for a digits CNN at batch 32 (8x8 and 4x4 inputs) XLA's own is as fast or
faster, and a training step with the slices took 8% longer (2.15 ms against 1.99 ms). So a
batch with fewer input positions than SLICED_MIN_POSITIONS (batch size times the positions of
one input) keeps XLA's convolution, as do other backends and dtypes other than float32 and
float64 (a GPU's filter gradient is fast).

    >>> import jax, jax.numpy as jnp
    >>> x, w = jnp.ones((1, 2, 4, 4)), jnp.ones((3, 2, 3, 3))
    >>> convolution(x, w, (1, 1), ((0, 0), (0, 0)), (1, 1), 1).shape
    (1, 3, 2, 2)
    >>> jax.grad(lambda w: convolution(x, w, (1, 1), ((0, 0), (0, 0)), (1, 1), 1).sum())(w)[0, 0].tolist()
    [[4.0, 4.0, 4.0], [4.0, 4.0, 4.0], [4.0, 4.0, 4.0]]
"""

from __future__ import annotations

import functools
import itertools
import math

import jax
import jax.numpy as jnp

SLICED_DTYPES = (jnp.float32, jnp.float64)  # (lower precisions keep XLA's accumulation)
SLICED_MIN_POSITIONS = 8192  # MNIST's 28x28 at batch 64: 50,176; a digits CNN's 8x8 at batch 32: 2,048


def _xla_convolution(x, weight, stride, pads, dilation, groups):
    # Default dimension numbers are PyTorch's layouts: (N, C, *spatial) and (O, I, *spatial).
    return jax.lax.conv_general_dilated(x, weight, stride, pads, rhs_dilation=dilation, feature_group_count=groups)


def convolution(x, weight, stride: tuple, pads: tuple, dilation: tuple, groups: int) -> jax.Array:
    """`lax.conv_general_dilated` over a batch (N, C, *spatial) in PyTorch's layouts, with the
    filter gradient as matmuls over slices on the CPU for large enough batches (see the module
    docstring)."""
    positions = x.shape[0] * math.prod(x.shape[2:])  # the batch's input positions
    if jax.default_backend() == "cpu" and x.dtype in SLICED_DTYPES and positions >= SLICED_MIN_POSITIONS:
        return _sliced_convolution(x, weight, tuple(stride), tuple(map(tuple, pads)), tuple(dilation), groups)
    return _xla_convolution(x, weight, stride, pads, dilation, groups)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2, 3, 4, 5))
def _sliced_convolution(x, weight, stride, pads, dilation, groups):
    return _xla_convolution(x, weight, stride, pads, dilation, groups)


@_sliced_convolution.defjvp
def _sliced_convolution_jvp(stride, pads, dilation, groups, primals, tangents):
    x, weight = primals
    x_tangent, weight_tangent = tangents
    y = _xla_convolution(x, weight, stride, pads, dilation, groups)
    y_tangent = _xla_convolution(x_tangent, weight, stride, pads, dilation, groups)
    y_tangent += _convolution_as_slices(x, weight_tangent, stride, pads, dilation, groups, y.shape[2:])
    return y, y_tangent


def _offset_slices(x, kernel, stride, pads, dilation, out_shape):
    """For each kernel offset (row-major), the slice of the zero-padded `x` it sees at every
    output position: (N, C, *out_shape) each."""
    padded = jnp.pad(x, ((0, 0), (0, 0), *pads))
    for offset in itertools.product(*(range(k) for k in kernel)):
        index = tuple(slice(o * d, o * d + (n - 1) * s + 1, s)
                      for o, d, n, s in zip(offset, dilation, out_shape, stride))
        yield padded[(slice(None), slice(None), *index)]


def _convolution_as_slices(x, weight, stride, pads, dilation, groups, out_shape):
    """The convolution of `x` with `weight` as a sum over kernel offsets of an input slice
    times that offset's (O, I) matrix: linear in `weight`, which is what the filter gradient
    transposes (into one matmul per offset)."""
    batch, channels = x.shape[:2]
    out_channels, in_per_group, *kernel = weight.shape
    grouped_weight = weight.reshape(groups, out_channels // groups, in_per_group, -1)
    total = None
    slices = _offset_slices(x, kernel, stride, pads, dilation, out_shape)
    for index, piece in enumerate(slices):
        piece = piece.reshape(batch, groups, in_per_group, *out_shape)
        term = jnp.einsum("ngc...,goc->ngo...", piece, grouped_weight[..., index])
        total = term if total is None else total + term
    return total.reshape(batch, out_channels, *out_shape)
