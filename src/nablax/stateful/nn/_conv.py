"""`nn.functional.conv1d`, `conv2d` and `conv3d`: PyTorch's argument checks and messages,
recorded as one op whose math is `nablax.nn.conv1d`/`conv2d`/`conv3d`."""

from __future__ import annotations

from ... import nn as pure
from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from ._checks import is_int, optional_operands, sizes, with_optional

_CONV_OPS = {
    1: Op("conv1d", with_optional(pure.conv1d, required=2)),
    2: Op("conv2d", with_optional(pure.conv2d, required=2)),
    3: Op("conv3d", with_optional(pure.conv3d, required=2)),
}

# C++'s names of the scalar types, which PyTorch's bias message uses.
def _check_input_rank(input: Tensor, spatial_dims: int, who: str | None = None) -> None:
    if input.ndim not in (spatial_dims + 1, spatial_dims + 2):
        unbatched, batched = spatial_dims + 1, spatial_dims + 2
        raise RuntimeError(f"Expected {unbatched}D (unbatched) or {batched}D (batched) input to "
                           f"{who or f'conv{spatial_dims}d'}, but got input of size: {sizes(input.shape)}")


def _check_padding_string(padding: str, stride) -> None:
    if padding not in ("same", "valid"):
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    if padding == "same" and any(s != 1 for s in ((stride,) if is_int(stride) else stride)):
        raise RuntimeError("padding='same' is not supported for strided convolutions")


def _per_dimension(value, name: str, spatial_dims: int, weight_dims: int) -> tuple[int, ...]:
    """`value` (an int or a list) as one int per spatial dimension of the weight; PyTorch
    expands a single value and counts the dimensions from the weight."""
    values = [value] * spatial_dims if is_int(value) else list(value)
    if len(values) == 1:
        values = values * weight_dims
    if len(values) != weight_dims:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {weight_dims} values to match "
                           f"the convolution dimensions, but got {name}={sizes(values)}")
    return tuple(int(v) for v in values)


def _check_shapes(batched_shape, weight: Tensor, bias, groups: int, padding, stride, dilation) -> None:
    """PyTorch's `check_shape_forward`, in its order."""
    if not isinstance(padding, str) and any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    w = tuple(weight.shape)
    if weight.ndim != len(batched_shape):
        raise RuntimeError(f"Expected {weight.ndim}-dimensional input for {weight.ndim}-dimensional weight {sizes(w)}, "
                           f"but got {len(batched_shape)}-dimensional input of size {sizes(batched_shape)} instead")
    if w[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got "
                           f"weight of size {sizes(w)} instead")
    if w[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got "
                           f"weight of size [{sizes(w)}] instead")
    if batched_shape[1] != w[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {sizes(w)}, expected input{sizes(batched_shape)} to have "
                           f"{w[1] * groups} channels, but got {batched_shape[1]} channels instead")
    if bias is not None and tuple(bias.shape) != (w[0],):
        raise RuntimeError(f"Given weight of size {sizes(w)}, expected bias to be 1-dimensional with {w[0]} elements, "
                           f"but got bias of size {sizes(bias.shape)} instead")
    if padding != "same":
        pads = (0,) * len(stride) if padding == "valid" else padding
        padded = [size + 2 * p for size, p in zip(batched_shape[2:], pads)]
        kernel = [d * (k - 1) + 1 for k, d in zip(w[2:], dilation)]
        if any(p < k for p, k in zip(padded, kernel)):
            raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
                               f"({' x '.join(map(str, kernel))}). Kernel size can't be greater than actual input size")


def _check_dtypes(input: Tensor, weight: Tensor, bias) -> None:
    if weight.dtype is not input.dtype:
        raise RuntimeError(f"Input type ({input.type()}) and weight type ({weight.type()}) should be the same or input "
                           "should be a MKLDNN tensor and weight is a dense tensor")
    if bias is not None and bias.dtype is not input.dtype:
        raise RuntimeError(f"Input type ({input.dtype.cpp_name}) and bias type ({bias.dtype.cpp_name}) should be the same")
    if input.dtype.name == "bool":
        raise NotImplementedError(f"\"slow_conv{weight.ndim - 2}d_cpu\" not implemented for 'Bool'")


def _output_shape(batched_shape, weight_shape, padding, stride, dilation) -> tuple[int, ...]:
    spatial = []
    for index, (size, kernel) in enumerate(zip(batched_shape[2:], weight_shape[2:])):
        if padding == "same":
            spatial.append(size)
            continue
        pad = 0 if padding == "valid" else padding[index]
        spatial.append((size + 2 * pad - dilation[index] * (kernel - 1) - 1) // stride[index] + 1)
    return (batched_shape[0], weight_shape[0], *spatial)


def convolution(input: Tensor, weight: Tensor, bias, stride, padding, dilation, groups, spatial_dims: int):
    """conv1d (`spatial_dims=1`), conv2d (2) or conv3d (3) with PyTorch's checks, in PyTorch's order."""
    _check_input_rank(input, spatial_dims)
    if isinstance(padding, str):
        _check_padding_string(padding, stride)
    if weight.ndim < 3:
        raise RuntimeError("weight should have at least three dimensions")
    weight_dims = weight.ndim - 2
    stride = _per_dimension(stride, "stride", spatial_dims, weight_dims)
    if not isinstance(padding, str):
        padding = _per_dimension(padding, "padding", spatial_dims, weight_dims)
    dilation = _per_dimension(dilation, "dilation", spatial_dims, weight_dims)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    unbatched = input.ndim == spatial_dims + 1
    batched_shape = (1, *input.shape) if unbatched else tuple(input.shape)
    _check_shapes(batched_shape, weight, bias, groups, padding, stride, dilation)
    _check_dtypes(input, weight, bias)
    shape = _output_shape(batched_shape, tuple(weight.shape), padding, stride, dilation)
    operands, present = optional_operands(bias=bias)
    static = (("stride", stride), ("padding", padding), ("dilation", dilation), ("groups", int(groups)), ("present", present))
    # PyTorch convolves the unbatched input as a batch of one and squeezes the batch away.
    return record(_CONV_OPS[spatial_dims], (input, weight, *operands), shape[1:] if unbatched else shape,
                  input.dtype.numpy, "SqueezeBackward1" if unbatched else "ConvolutionBackward0", static)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """A 1-D convolution over (N, C_in, L) or (C_in, L) with a `[C_out, C_in / groups, k]`
    weight; `padding` is an int, a 1-tuple, 'valid' or 'same' (`nablax.nn.conv1d`)."""
    return convolution(input, weight, bias, stride, padding, dilation, groups, spatial_dims=1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """A 2-D convolution over (N, C_in, H, W) or (C_in, H, W) with a `[C_out, C_in / groups,
    kH, kW]` weight; `padding` is an int, a pair, 'valid' or 'same' (`nablax.nn.conv2d`)."""
    return convolution(input, weight, bias, stride, padding, dilation, groups, spatial_dims=2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """A 3-D convolution over (N, C_in, D, H, W) or (C_in, D, H, W) with a `[C_out, C_in / groups,
    kD, kH, kW]` weight (`nablax.nn.conv3d`)."""
    return convolution(input, weight, bias, stride, padding, dilation, groups, spatial_dims=3)
