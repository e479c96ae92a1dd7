"""`nn.functional.conv_transpose1d`/`2d`/`3d`: PyTorch's checks and messages, recorded as one op
whose math is `nablax.nn.conv_transpose`."""

from __future__ import annotations

from ... import nn as pure
from ..engine import Op
from ..tensor import Tensor
from ._checks import is_int, optional_operands, record_traced, sizes, with_optional
from ._conv import _check_input_rank

CONV_TRANSPOSE = Op("conv_transpose", with_optional(pure.conv_transpose, required=2))
_AXES = {1: ("width",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def _per_dimension(value, name: str, spatial_dims: int) -> tuple[int, ...]:
    values = (value,) * spatial_dims if is_int(value) else tuple(value)
    if len(values) == 1:
        values = values * spatial_dims
    if len(values) != spatial_dims or not all(is_int(v) for v in values):
        raise TypeError(f"conv_transpose{spatial_dims}d(): argument '{name}' must be tuple of ints, not "
                        f"{type(value).__name__}")
    return tuple(int(v) for v in values)


def _check_output_padding(output_padding, stride, dilation) -> None:
    if all(p < s or p < d for p, s, d in zip(output_padding, stride, dilation)):
        return
    # PyTorch words a 1-D one as a 2-D one of height 1.
    axes = _AXES[max(len(stride), 2)]
    lead = (0,) * (len(axes) - len(stride))
    words = [f"{kind}_{axis}: {value}" for kind, values in (("output_padding", lead + output_padding),
                                                            ("stride", (1,) * len(lead) + stride),
                                                            ("dilation", (1,) * len(lead) + dilation))
             for axis, value in zip(axes, values)]
    raise RuntimeError("output padding must be smaller than either stride or dilation, but got " + " ".join(words))


def _check_shapes(input: Tensor, weight: Tensor, bias, groups: int, batched_shape) -> None:
    w = tuple(weight.shape)
    if weight.ndim != len(batched_shape):
        raise RuntimeError(f"Expected {weight.ndim}-dimensional input for {weight.ndim}-dimensional weight {sizes(w)}, "
                           f"but got {len(batched_shape)}-dimensional input of size {sizes(batched_shape)} instead")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if w[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got "
                           f"weight of size [{sizes(w)}] instead")
    if batched_shape[1] != w[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {sizes(w)}, expected input{sizes(batched_shape)} to have "
                           f"{w[0]} channels, but got {batched_shape[1]} channels instead")
    if bias is not None and tuple(bias.shape) != (w[1] * groups,):
        raise RuntimeError(f"Given transposed=1, weight of size {sizes(w)}, expected bias to be 1-dimensional with "
                           f"{w[1] * groups} elements, but got bias of size {sizes(bias.shape)} instead")
    for other in (weight, bias):
        if other is not None and other.dtype is not input.dtype:
            raise RuntimeError(f"expected scalar type {input.dtype.cpp_name} but found {other.dtype.cpp_name}")


def conv_transpose(input: Tensor, weight: Tensor, bias, stride, padding, output_padding, groups, dilation,
                   spatial_dims: int) -> Tensor:
    """A transposed convolution with PyTorch's checks, in its order."""
    _check_input_rank(input, spatial_dims, f"conv_transpose{spatial_dims}d")
    stride, padding, output_padding, dilation = (
        _per_dimension(value, name, spatial_dims) for value, name in
        ((stride, "stride"), (padding, "padding"), (output_padding, "output_padding"), (dilation, "dilation")))
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    unbatched = input.ndim == spatial_dims + 1
    _check_shapes(input, weight, bias, int(groups), (1, *input.shape) if unbatched else tuple(input.shape))
    _check_output_padding(output_padding, stride, dilation)
    operands, present = optional_operands(bias=bias)
    static = (("stride", stride), ("padding", padding), ("output_padding", output_padding), ("groups", int(groups)),
              ("dilation", dilation), ("spatial_dims", spatial_dims), ("present", present))
    return record_traced(CONV_TRANSPOSE, (input, weight, *operands),
                         "SqueezeBackward1" if unbatched else "ConvolutionBackward0", static)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """A 1-D transposed convolution over (N, C_in, L) or (C_in, L) with a `[C_in, C_out / groups, k]`
    weight (`nablax.nn.conv_transpose1d`)."""
    return conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """A 2-D transposed convolution over (N, C_in, H, W) or (C_in, H, W) with a `[C_in, C_out / groups,
    kH, kW]` weight (`nablax.nn.conv_transpose2d`).

        >>> import nablax.stateful as torch
        >>> x, w = torch.ones(1, 3, 4, 4), torch.ones(3, 8, 3, 3)
        >>> torch.nn.functional.conv_transpose2d(x, w, stride=2, padding=1).shape
        torch.Size([1, 8, 7, 7])
    """
    return conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """A 3-D transposed convolution over (N, C_in, D, H, W) or (C_in, D, H, W) (`nablax.nn.conv_transpose3d`)."""
    return conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3)
