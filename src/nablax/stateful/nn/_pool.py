"""`nn.functional.max_pool2d`, `avg_pool2d` and `adaptive_avg_pool2d`: PyTorch's argument
checks and messages, recorded as one op whose math is the function of `nablax.nn` of the
same name."""

from __future__ import annotations

import jax.numpy as jnp

from ... import nn as pure
from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from ._checks import is_int, not_implemented, reject_unsupported, sizes

MAX_POOL2D = Op("max_pool2d", pure.max_pool2d)
ADAPTIVE_AVG_POOL2D = Op("adaptive_avg_pool2d", pure.adaptive_avg_pool2d)


def _avg_pool2d(x, *, kernel_size, stride, padding, count_include_pad, divisor):
    """`nablax.nn.avg_pool2d`, or the window sums divided by `divisor` (PyTorch's
    `divisor_override`), in the input's dtype: integers are averaged with truncating
    division, as in PyTorch."""
    if divisor is None:
        return pure.avg_pool2d(x, kernel_size, stride, padding, count_include_pad).astype(x.dtype)
    sums = pure.avg_pool2d(x, kernel_size, stride, padding, True) * (kernel_size[0] * kernel_size[1])
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        sums = jnp.round(sums)  # integer sums, exactly, before the truncating division
    return (sums / divisor).astype(x.dtype)


AVG_POOL2D = Op("avg_pool2d", _avg_pool2d)


def _pair(value, name: str, who: str, *, may_omit: bool = False) -> tuple[int, int]:
    """An int, or a sequence of one or two ints, as a pair (PyTorch's parsing and message)."""
    values = (value,) if is_int(value) else tuple(value) if isinstance(value, (tuple, list)) else None
    if values is None or len(values) not in (1, 2) or not all(is_int(v) for v in values):
        if name == "dilation":
            raise RuntimeError(f"{who}: dilation must be either a single int, or a tuple of two ints")
        omitted = "be omitted, " if may_omit else "be "
        raise RuntimeError(f"{who}: {name} must either {omitted}a single int, or a tuple of two ints")
    return (int(values[0]), int(values[-1]))


def _window(kernel_size, stride, padding, who: str):
    kernel = _pair(kernel_size, "kernel_size", who)
    omitted = stride is None or (isinstance(stride, (tuple, list)) and not stride)
    stride = kernel if omitted else _pair(stride, "stride", who, may_omit=True)
    return kernel, stride, _pair(padding, "padding", who)


def _check_window(input: Tensor, kernel, stride, padding) -> tuple[int, int]:
    """PyTorch's `pool2d_shape_check`; returns the output's (height, width)."""
    if kernel[0] <= 0 or kernel[1] <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kernel[0]} kW: {kernel[1]}")
    if stride[0] <= 0 or stride[1] <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {stride[0]} dW: {stride[1]}")
    for pad in padding:
        if pad < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {pad}")
    for pad, size in zip(padding, kernel):
        if pad > size // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={pad}, "
                               f"kernel_size={size} and dilation=1")
    height, width = ((size + 2 * p - k) // s + 1 for size, k, s, p in zip(input.shape[-2:], kernel, stride, padding))
    if height < 1 or width < 1:
        channels, in_height, in_width = input.shape[-3:]
        raise RuntimeError(f"Given input size: ({channels}x{in_height}x{in_width}). Calculated output size: "
                           f"({channels}x{height}x{width}). Output size is too small")
    return height, width


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The maximum of each window over (N, C, H, W) or (C, H, W) (`nablax.nn.max_pool2d`)."""
    who = "max_pool2d"
    kernel, stride, padding = _window(kernel_size, stride, padding, who)
    dilation = _pair(dilation, "dilation", who)
    if input.ndim not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    if stride[0] == 0 or stride[1] == 0:
        raise RuntimeError("stride should not be zero")
    reject_unsupported(who, dilation=(dilation, (1, 1)), ceil_mode=(bool(ceil_mode), False),
                 return_indices=(bool(return_indices), False))
    height, width = _check_window(input, kernel, stride, padding)
    static = (("kernel_size", kernel), ("stride", stride), ("padding", padding))
    return record(MAX_POOL2D, (input,), (*input.shape[:-2], height, width), input.dtype.numpy,
                  "MaxPool2DWithIndicesBackward0", static)


def _check_avg_pool_rank(input: Tensor) -> None:
    """PyTorch reads the channel count as `input.size(-3)` first, which words the errors."""
    if input.ndim == 0:
        raise IndexError("Dimension specified as -3 but tensor has no dimensions")
    if input.ndim < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-input.ndim}, {input.ndim - 1}], "
                         "but got -3)")
    if input.ndim > 4:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:"
                           f"{sizes(input.shape)}")


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None):
    """The mean of each window over (N, C, H, W) or (C, H, W); zero padding counts unless
    `count_include_pad=False`, and `divisor_override` replaces the window size (`nablax.nn.avg_pool2d`)."""
    who = "avg_pool2d"
    kernel, stride, padding = _window(kernel_size, stride, padding, who)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    _check_avg_pool_rank(input)
    if stride[0] == 0 or stride[1] == 0:
        raise RuntimeError("stride should not be zero")
    reject_unsupported(who, ceil_mode=(bool(ceil_mode), False))
    height, width = _check_window(input, kernel, stride, padding)
    static = (("kernel_size", kernel), ("stride", stride), ("padding", padding),
              ("count_include_pad", bool(count_include_pad)),
              ("divisor", None if divisor_override is None else int(divisor_override)))
    return record(AVG_POOL2D, (input,), (*input.shape[:-2], height, width), input.dtype.numpy,
                  "AvgPool2DBackward0", static)


def _adaptive_output_size(output_size, input: Tensor):
    """PyTorch's `_list_with_default`: None entries take the input's size."""
    if is_int(output_size):
        return (int(output_size), int(output_size))
    output_size = tuple(output_size)
    if input.ndim <= len(output_size):
        raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
    return tuple(size if wanted is None else wanted for wanted, size in zip(output_size, input.shape[-len(output_size):]))


def adaptive_avg_pool2d(input: Tensor, output_size):
    """Means over `output_size` bins per axis, as PyTorch splits them (`nablax.nn.adaptive_avg_pool2d`)."""
    output_size = _adaptive_output_size(output_size, input)
    if len(output_size) != 2:
        raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
    if output_size[0] < 0 or output_size[1] < 0:
        raise RuntimeError("adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but "
                           f"received {{{output_size[0]}, {output_size[1]}}}")
    for dim in range(1, input.ndim):
        if input.shape[dim] <= 0:
            raise RuntimeError("adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch dimensions, "
                               f"but input has sizes {sizes(input.shape)} with dimension {dim} being empty")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {sizes(input.shape)}")
    if not input.dtype.is_floating_point:
        raise not_implemented("adaptive_avg_pool2d", input)
    if 0 in output_size:
        raise NotImplementedError(f"adaptive_avg_pool2d: an empty output (output_size={output_size}) is not supported "
                                  "by nablax")
    # PyTorch computes a (1, 1) output as a mean over the last two dimensions.
    grad_name = "MeanBackward1" if output_size == (1, 1) else "AdaptiveAvgPool2DBackward0"
    return record(ADAPTIVE_AVG_POOL2D, (input,), (*input.shape[:-2], *output_size), input.dtype.numpy, grad_name,
                  (("output_size", tuple(int(size) for size in output_size)),))
