"""`nn.functional.max_pool3d`, `avg_pool3d`, `adaptive_avg_pool3d` and `adaptive_max_pool3d`:
PyTorch's checks and messages, recorded as one op whose math is the function of `nablax.nn`
of the same name."""

from __future__ import annotations

from ... import nn as pure
from ..engine import Op
from ..tensor import Tensor
from ._checks import is_int, not_implemented, record_pool, sizes
from ._pool import _omitted, _output_size

MAX_POOL3D = Op("max_pool3d", pure.max_pool3d)
AVG_POOL3D = Op("avg_pool3d", pure.avg_pool3d)
ADAPTIVE_AVG_POOL3D = Op("adaptive_avg_pool3d", pure.adaptive_avg_pool3d)
ADAPTIVE_MAX_POOL3D = Op("adaptive_max_pool3d", pure.adaptive_max_pool3d)


def _triple(value, name: str, who: str) -> tuple[int, int, int]:
    """An int, or a sequence of one or three ints (PyTorch's parsing and message)."""
    values = (value,) if is_int(value) else tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(values) not in (1, 3) or not all(is_int(v) for v in values):
        omitted = "be omitted, " if name == "stride" else "be "
        raise RuntimeError(f"{who}: {name} must either {omitted}a single int, or a tuple of three ints")
    return (int(values[0]), int(values[len(values) // 2]), int(values[-1]))


def _window(input: Tensor, kernel_size, stride, padding, dilation, ceil_mode: bool, who: str):
    """Checked (kernel, stride, padding, dilation) triples and the output's (D, H, W)."""
    kernel = _triple(kernel_size, "kernel_size", who)
    stride = kernel if _omitted(stride) else _triple(stride, "stride", who)
    padding, dilation = _triple(padding, "padding", who), _triple(dilation, "dilation", who)
    if input.ndim not in (4, 5) or 0 in input.shape[-4:]:
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
    out = tuple(_output_size(*args, ceil_mode) for args in zip(input.shape[-3:], kernel, padding, stride, dilation))
    if min(out) < 1:
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, input.shape[-4:]))}). Calculated output size: "
                           f"({'x'.join(map(str, (input.shape[-4], *out)))}). Output size is too small")
    return kernel, stride, padding, dilation, out


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The maximum of each window over (N, C, D, H, W) or (C, D, H, W), and with `return_indices`
    its position `(d * H + h) * W + w` (`nablax.nn.max_pool3d`)."""
    kernel, stride, padding, dilation, out = _window(input, kernel_size, stride, padding, dilation, ceil_mode,
                                                     "max_pool3d")
    if input.dtype.name == "bool" or input.dtype.is_complex:
        raise not_implemented("max_pool3d", input)
    static = (("kernel_size", kernel), ("stride", stride), ("padding", padding), ("dilation", dilation),
              ("ceil_mode", bool(ceil_mode)))
    return record_pool(MAX_POOL3D, input, (*input.shape[:-3], *out), "MaxPool3DWithIndicesBackward0", static,
                       return_indices)


def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None):
    """The mean of each window over (N, C, D, H, W) or (C, D, H, W) (`nablax.nn.avg_pool3d`)."""
    if input.ndim in (4, 5) and 0 not in input.shape[-4:]:
        kernel = _triple(kernel_size, "kernel_size", "avg_pool3d")
        if any(size < k for size, k in zip(input.shape[-3:], kernel)) and not padding:
            raise RuntimeError(f"input image (T: {input.shape[-3]} H: {input.shape[-2]} W: {input.shape[-1]}) smaller "
                               f"than kernel size (kT: {kernel[0]} kH: {kernel[1]} kW: {kernel[2]})")
    kernel, stride, padding, _, out = _window(input, kernel_size, stride, padding, 1, ceil_mode, "avg_pool3d")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    if input.dtype.name == "bool" or input.dtype.is_complex:
        raise not_implemented("avg_pool3d_out_frame", input)
    static = (("kernel_size", kernel), ("stride", stride), ("padding", padding), ("ceil_mode", bool(ceil_mode)),
              ("count_include_pad", bool(count_include_pad)),
              ("divisor_override", None if divisor_override is None else int(divisor_override)))
    return record_pool(AVG_POOL3D, input, (*input.shape[:-3], *out), "AvgPool3DBackward0", static)


def _adaptive(input: Tensor, output_size, who: str, colon: str) -> tuple[int, int, int]:
    """PyTorch's checks of a 3-D adaptive pool; the output's (D, H, W), None entries filled in."""
    wanted = (output_size,) * 3 if is_int(output_size) or output_size is None else tuple(output_size)
    if len(wanted) != 3:
        raise RuntimeError(f"{who}: output_size must be 3")
    if input.ndim not in (4, 5):
        raise RuntimeError(f"{who}(): Expected 4D or 5D tensor, but got{colon} {sizes(input.shape)}")
    for dim in range(1, input.ndim):
        if input.shape[dim] <= 0:
            raise RuntimeError(f"{who}(): Expected input to have non-zero size for non-batch dimensions, but input has "
                               f"sizes {sizes(input.shape)} with dimension {dim} being empty")
    out = tuple(size if w is None else int(w) for w, size in zip(wanted, input.shape[-3:]))
    if min(out) < 1:
        raise NotImplementedError(f"{who}: an empty output (output_size={out}) is not supported by nablax")
    if not input.dtype.is_floating_point:
        raise not_implemented(who, input)
    return out


def adaptive_avg_pool3d(input: Tensor, output_size):
    """Means over `output_size` bins per axis of (N, C, D, H, W) or (C, D, H, W)
    (`nablax.nn.adaptive_avg_pool3d`)."""
    out = _adaptive(input, output_size, "adaptive_avg_pool3d", "")
    return record_pool(ADAPTIVE_AVG_POOL3D, input, (*input.shape[:-3], *out), "AdaptiveAvgPool3DBackward0",
                       (("output_size", out),))


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    """The maximum of each bin of (N, C, D, H, W) or (C, D, H, W), and with `return_indices` its
    position (`nablax.nn.adaptive_max_pool3d`)."""
    out = _adaptive(input, output_size, "adaptive_max_pool3d", ":")
    return record_pool(ADAPTIVE_MAX_POOL3D, input, (*input.shape[:-3], *out), "AdaptiveMaxPool3DBackward0",
                       (("output_size", out),), return_indices)
