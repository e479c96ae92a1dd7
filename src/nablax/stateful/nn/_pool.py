"""`nn.functional.max_pool1d`/`max_pool2d` and `avg_pool1d`/`avg_pool2d`: PyTorch's argument
checks and messages, recorded as one op whose math is the function of `nablax.nn` of the
same name (`ceil_mode`, `dilation`, `return_indices`, `count_include_pad` and
`divisor_override` included).

PyTorch computes most 1-D pools as 2-D ones over a height of 1, which words their errors:
they are checked here the same way.
"""

from __future__ import annotations

import math

from ... import nn as pure
import numpy as np

from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from ._checks import is_int, known_value, not_implemented, record_pool, sizes

MAX_POOL1D = Op("max_pool1d", pure.max_pool1d)
MAX_POOL2D = Op("max_pool2d", pure.max_pool2d)
AVG_POOL1D = Op("avg_pool1d", pure.avg_pool1d)
AVG_POOL2D = Op("avg_pool2d", pure.avg_pool2d)


def _pair(value, name: str, who: str, *, may_omit: bool = False) -> tuple[int, int]:
    """An int, or a sequence of one or two ints, as a pair (PyTorch's parsing and message)."""
    values = (value,) if is_int(value) else tuple(value) if isinstance(value, (tuple, list)) else None
    if values is None or len(values) not in (1, 2) or not all(is_int(v) for v in values):
        if name == "dilation":
            raise RuntimeError(f"{who}: dilation must be either a single int, or a tuple of two ints")
        omitted = "be omitted, " if may_omit else "be "
        raise RuntimeError(f"{who}: {name} must either {omitted}a single int, or a tuple of two ints")
    return (int(values[0]), int(values[-1]))


def _omitted(stride) -> bool:
    return stride is None or (isinstance(stride, (tuple, list)) and not stride)


def _window(kernel_size, stride, padding, who: str):
    kernel = _pair(kernel_size, "kernel_size", who)
    stride = kernel if _omitted(stride) else _pair(stride, "stride", who, may_omit=True)
    return kernel, stride, _pair(padding, "padding", who)


def _single(value, name: str, who: str) -> int:
    """An int or a one-int sequence, with the message of PyTorch's argument parser."""
    values = (value,) if is_int(value) else tuple(value)
    if len(values) != 1:
        raise RuntimeError(f"{who}() argument '{name}' should contain one int (got {len(values)})")
    return int(values[0])


def _check_dims_range(input: Tensor, who: str) -> None:
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor for argument #1 "
                           f"'self' (while checking arguments for {who})")


def _output_size(size: int, kernel: int, padding: int, stride: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's `pooling_output_shape`, checks included."""
    if stride == 0:
        raise RuntimeError("stride should not be zero")
    if padding < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {padding}")
    if padding > math.trunc(((kernel - 1) * dilation + 1) / 2):  # C++'s division
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={padding}, "
                           f"kernel_size={kernel} and dilation={dilation}")
    out = (size + 2 * padding - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last window must start inside the input
    return out


def _check_pool2d(shape: tuple, kernel, stride, padding, dilation, ceil_mode: bool) -> tuple[int, int]:
    """PyTorch's output sizes and `pool2d_shape_check` for an input of `shape`; returns the
    output's (height, width)."""
    height, width = (_output_size(*args, ceil_mode) for args in zip(shape[-2:], kernel, padding, stride, dilation))
    if kernel[0] <= 0 or kernel[1] <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kernel[0]} kW: {kernel[1]}")
    if stride[0] <= 0 or stride[1] <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {stride[0]} dW: {stride[1]}")
    if dilation[0] <= 0 or dilation[1] <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {dilation[0]} "
                           f"dilationW: {dilation[1]}")
    if len(shape) not in (3, 4) or 0 in shape[1:]:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:"
                           f"{sizes(shape)}")
    if kernel[1] // 2 < padding[1] or kernel[0] // 2 < padding[0]:
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got padW = {padding[1]}, "
                           f"padH = {padding[0]}, kW = {kernel[1]}, kH = {kernel[0]}")
    if height < 1 or width < 1:
        channels, in_height, in_width = shape[-3:]
        raise RuntimeError(f"Given input size: ({channels}x{in_height}x{in_width}). Calculated output size: "
                           f"({channels}x{height}x{width}). Output size is too small")
    return height, width


def _require_max_pool_dtype(kernel: str, input: Tensor) -> None:
    if input.dtype.name == "bool" or input.dtype.is_complex:
        raise not_implemented(kernel, input)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The maximum of each window over (N, C, H, W) or (C, H, W), and with `return_indices`
    its position `h * W + w` (`nablax.nn.max_pool2d`)."""
    who = "max_pool2d"
    kernel, stride, padding = _window(kernel_size, stride, padding, who)
    dilation = _pair(dilation, "dilation", who)
    if input.ndim not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    height, width = _check_pool2d(input.shape, kernel, stride, padding, dilation, ceil_mode)
    _require_max_pool_dtype("max_pool2d", input)
    static = (("kernel_size", kernel), ("stride", stride), ("padding", padding), ("dilation", dilation),
              ("ceil_mode", bool(ceil_mode)))
    return record_pool(MAX_POOL2D, input, (*input.shape[:-2], height, width), "MaxPool2DWithIndicesBackward0", static,
                   return_indices)


def _max_pool1d_argument(value, name: str, article: str = "an int, list of ints") -> int:
    """One of max_pool1d's arguments, with its own messages (it is not computed as a 2-D pool)."""
    values = (value,) if is_int(value) else tuple(value)
    if len(values) != 1:
        raise RuntimeError(f"max_pool1d() {name} must be {article} or tuple of ints of size 1 but got size "
                           f"{len(values)}")
    return int(values[0])


def _check_max_pool1d(input: Tensor, kernel_size, stride, padding, dilation, ceil_mode: bool) -> tuple:
    """PyTorch's `check_max_pool1d`; returns (kernel, stride, padding, dilation, output length)."""
    if input.ndim not in (2, 3):
        raise RuntimeError("max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, "
                           f"but got:{sizes(input.shape)}")
    kernel = _max_pool1d_argument(kernel_size, "kernel_size")
    stride = kernel if _omitted(stride) else _max_pool1d_argument(stride, "stride", "None, an int, list of ints,")
    padding = _max_pool1d_argument(padding, "padding", "an int, list of ints,")
    dilation = _max_pool1d_argument(dilation, "dilation")
    for name, value, minimum, kind in (("kernel_size", kernel, 1, "greater than zero"),
                                       ("stride", stride, 1, "greater than zero"),
                                       ("padding", padding, 0, "non-negative")):
        if value < minimum:
            raise RuntimeError(f"max_pool1d() {name} must be {kind}, but got {value}")
    if padding > kernel // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but got padding={padding} and "
                           f"kernel_size={kernel}")
    if dilation <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {dilation}")
    length = _output_size(input.shape[-1], kernel, padding, stride, dilation, ceil_mode)
    if length <= 0:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {length}")
    return kernel, stride, padding, dilation, length


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The maximum of each window over (N, C, L) or (C, L), and with `return_indices` its
    position along L (`nablax.nn.max_pool1d`)."""
    if return_indices:  # PyTorch pools a height of 1 with max_pool2d here
        who = "max_pool1d"
        kernel, stride = _single(kernel_size, "kernel_size", who), None if _omitted(stride) else _single(stride, "stride", who)
        padding, dilation = _single(padding, "padding", who), _single(dilation, "dilation", who)
        _check_dims_range(input, who)
        stride = kernel if stride is None else stride
        _, length = _check_pool2d((*input.shape[:-1], 1, input.shape[-1]), (1, kernel), (1, stride), (0, padding),
                                  (1, dilation), ceil_mode)
        _require_max_pool_dtype("max_pool2d", input)
    else:
        kernel, stride, padding, dilation, length = _check_max_pool1d(input, kernel_size, stride, padding, dilation,
                                                                      ceil_mode)
        if not input.dtype.is_floating_point:
            raise not_implemented("max_pool1d_impl", input)
    static = (("kernel_size", kernel), ("stride", stride), ("padding", padding), ("dilation", dilation),
              ("ceil_mode", bool(ceil_mode)))
    return record_pool(MAX_POOL1D, input, (*input.shape[:-1], length), "SqueezeBackward1", static, return_indices)


def _check_avg_pool_rank(input_shape: tuple) -> None:
    """PyTorch reads the channel count as `input.size(-3)` first, which words the errors."""
    ndim = len(input_shape)
    if ndim == 0:
        raise IndexError("Dimension specified as -3 but tensor has no dimensions")
    if ndim < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got -3)")
    if ndim > 4:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:"
                           f"{sizes(input_shape)}")


def _check_avg_pool2d(input: Tensor, shape: tuple, kernel, stride, padding, ceil_mode: bool) -> tuple[int, int]:
    _check_avg_pool_rank(shape)
    height, width = _check_pool2d(shape, kernel, stride, padding, (1, 1), ceil_mode)
    if input.dtype.name == "bool" or input.dtype.is_complex:
        raise not_implemented("avg_pool2d", input)
    return height, width


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None):
    """The mean of each window over (N, C, H, W) or (C, H, W); zero padding counts unless
    `count_include_pad=False`, and `divisor_override` replaces the window size (`nablax.nn.avg_pool2d`)."""
    kernel, stride, padding = _window(kernel_size, stride, padding, "avg_pool2d")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    height, width = _check_avg_pool2d(input, input.shape, kernel, stride, padding, ceil_mode)
    static = (("kernel_size", kernel), ("stride", stride), ("padding", padding), ("ceil_mode", bool(ceil_mode)),
              ("count_include_pad", bool(count_include_pad)),
              ("divisor_override", None if divisor_override is None else int(divisor_override)))
    return record_pool(AVG_POOL2D, input, (*input.shape[:-2], height, width), "AvgPool2DBackward0", static)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True):
    """The mean of each window over (N, C, L) or (C, L); zero padding counts unless
    `count_include_pad=False` (`nablax.nn.avg_pool1d`)."""
    who = "avg_pool1d"
    kernel = _single(kernel_size, "kernel_size", who)
    stride = kernel if _omitted(stride) else _single(stride, "stride", who)
    padding = _single(padding, "padding", who)
    _check_dims_range(input, who)
    _, length = _check_avg_pool2d(input, (*input.shape[:-1], 1, input.shape[-1]), (1, kernel), (1, stride),
                                  (0, padding), ceil_mode)
    static = (("kernel_size", kernel), ("stride", stride), ("padding", padding), ("ceil_mode", bool(ceil_mode)),
              ("count_include_pad", bool(count_include_pad)))
    return record_pool(AVG_POOL1D, input, (*input.shape[:-1], length), "SqueezeBackward1", static)


MAX_UNPOOL = {dims: Op(f"max_unpool{dims}d", getattr(pure, f"max_unpool{dims}d")) for dims in (1, 2, 3)}


def _unpool_output_size(input: Tensor, kernel, stride, padding, output_size) -> tuple[int, ...]:
    """PyTorch's `_unpool_output_size`: the default size, or `output_size` (its last
    `len(kernel)` entries) if it is within a stride of it."""
    dims = len(kernel)
    default = [(size - 1) * s + k - 2 * p for size, k, s, p in zip(input.shape[-dims:], kernel, stride, padding)]
    if output_size is None:
        sizes = default
    else:
        sizes = list(output_size)[2:] if len(output_size) == dims + 2 else list(output_size)
        if len(sizes) != dims:
            raise ValueError(f"output_size should be a sequence containing {dims} or {dims + 2} elements, but it has a "
                             f"length of '{len(sizes)}'")
        for dim, (size, usual, s) in enumerate(zip(sizes, default, stride)):
            if not usual - s < size < usual + s:
                raise ValueError(f'invalid output_size "{output_size}" (dim {dim} must be between {usual - s} and '
                                 f'{usual + s})')
    for dim, size in enumerate(sizes):
        if size < 0:
            raise ValueError(f"max_unpooling: output_size must contain non-negative spatial dimensions, but got "
                             f"output_size[{dim}]={size}")
    return tuple(int(size) for size in sizes)


def _check_unpool_indices(input: Tensor, indices: Tensor, sizes_out: tuple, kernel_dims: int, trailing=()) -> None:
    """PyTorch's checks of the indices, for its kernel over `kernel_dims` dims (shapes shown with
    `trailing` sizes appended); their range only when their values are known (a pending index
    out of range is dropped)."""
    input_shape, indices_shape = (*input.shape, *trailing), (*indices.shape, *trailing)
    if indices.dtype.name != "int64":
        but = f" but got: {indices.dtype.scalar_name}" if kernel_dims == 2 else ""
        raise RuntimeError(f"elements in indices should be type int64{but}")
    if indices_shape != input_shape:
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor ({sizes(input_shape)}) but "
                           f"got indices tensor with shape: {sizes(indices_shape)}")
    if len(input_shape) not in (kernel_dims + 1, kernel_dims + 2):
        raise RuntimeError(f"Input to max_unpooling{kernel_dims}d should be a {kernel_dims + 1}d or {kernel_dims + 2}d "
                           f"Tensor, but got a tensor with {len(input_shape)} dimensions.")
    if not input.dtype.is_floating_point:
        raise not_implemented(f"max_unpool{kernel_dims}d", input)
    known = known_value(indices)
    if known is not None and indices.numel():
        values = np.asarray(known)
        bad = values[(values < 0) | (values >= math.prod(sizes_out))]
        if bad.size:
            raise RuntimeError(f"Found an invalid max index: {int(bad.flat[0])} (output volumes are of size "
                               f"{'x'.join(map(str, sizes_out))})")


def _max_unpool(input: Tensor, indices: Tensor, kernel_size, stride, padding, output_size, dims: int, grad_name: str):
    """max_unpool over the last `dims` axes; PyTorch computes a 1-D one with its 2-D kernel over
    a width of 1, which words its checks."""
    kernel = _unpool_sizes(kernel_size, "kernel_size", dims)
    stride = kernel if stride is None else _unpool_sizes(stride, "stride", dims)
    padding = _unpool_sizes(padding, "padding", dims)
    out = _unpool_output_size(input, kernel, stride, padding, output_size)
    if dims == 1:
        _check_unpool_indices(input, indices, (*out, 1), 2, trailing=(1,))
    else:
        _check_unpool_indices(input, indices, out, dims)
    static = (("kernel_size", kernel), ("stride", stride), ("padding", padding), ("output_size", out))
    return record(MAX_UNPOOL[dims], (input, indices), (*input.shape[:-dims], *out), input.dtype.numpy, grad_name,
                  static, differentiable=(True, False))


def _unpool_sizes(value, name: str, dims: int) -> tuple[int, ...]:
    """PyTorch's `_pair` (with max_unpool2d's message) or `_single`/`_triple`: a sequence as a
    tuple, an int repeated `dims` times."""
    if dims == 2:
        return _pair(value, name, "max_unpool2d")
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value),) * dims


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None):
    """Each value of `input` at its position `indices` (from `max_pool1d(..., return_indices=True)`)
    in a row of zeros (`nablax.nn.max_unpool1d`)."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1, "SqueezeBackward1")


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None):
    """Each value of `input` at its position `indices` (from `max_pool2d(..., return_indices=True)`)
    in a plane of zeros (`nablax.nn.max_unpool2d`)."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2, "MaxUnpool2DBackward0")


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None):
    """Each value of `input` at its position `indices` (from `max_pool3d(..., return_indices=True)`)
    in a volume of zeros (`nablax.nn.max_unpool3d`)."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3, "MaxUnpool3DBackward0")
