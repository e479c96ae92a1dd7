"""`nn.functional.adaptive_avg_pool1d`/`2d` and `adaptive_max_pool1d`/`2d`: PyTorch's argument
checks and messages, recorded as one op whose math is the function of `nablax.nn` of the
same name. PyTorch computes the 1-D pools as 2-D ones over a height of 1, which words
their errors."""

from __future__ import annotations

from ... import nn as pure
from ..engine import Op
from ..tensor import Tensor
from ._checks import is_int, not_implemented, record_pool, sizes

ADAPTIVE_AVG_POOL1D = Op("adaptive_avg_pool1d", pure.adaptive_avg_pool1d)
ADAPTIVE_AVG_POOL2D = Op("adaptive_avg_pool2d", pure.adaptive_avg_pool2d)
ADAPTIVE_MAX_POOL1D = Op("adaptive_max_pool1d", pure.adaptive_max_pool1d)
ADAPTIVE_MAX_POOL2D = Op("adaptive_max_pool2d", pure.adaptive_max_pool2d)


def _adaptive_output_size(output_size, input: Tensor):
    """PyTorch's `_list_with_default`: None entries take the input's size."""
    if is_int(output_size):
        return (int(output_size), int(output_size))
    output_size = tuple(output_size)
    if input.ndim <= len(output_size):
        raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
    return tuple(size if wanted is None else wanted for wanted, size in zip(output_size, input.shape[-len(output_size):]))


def _check_nonempty(who: str, shape: tuple) -> None:
    for dim in range(1, len(shape)):
        if shape[dim] <= 0:
            raise RuntimeError(f"{who}(): Expected input to have non-zero size for non-batch dimensions, but input has "
                               f"sizes {sizes(shape)} with dimension {dim} being empty")


def _refuse_empty_output(who: str, output_size) -> None:
    if 0 in output_size:
        raise NotImplementedError(f"{who}: an empty output (output_size={output_size}) is not supported by nablax")


def _check_avg(input: Tensor, shape: tuple, output_size: tuple) -> None:
    """PyTorch's checks of `adaptive_avg_pool2d` for an input of `shape`."""
    if len(output_size) != 2:
        raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
    if output_size[0] < 0 or output_size[1] < 0:
        raise RuntimeError("adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but "
                           f"received {{{output_size[0]}, {output_size[1]}}}")
    _check_nonempty("adaptive_avg_pool2d", shape)
    if len(shape) not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {sizes(shape)}")
    if not input.dtype.is_floating_point:
        raise not_implemented("adaptive_avg_pool2d", input)
    _refuse_empty_output("adaptive_avg_pool2d", output_size)


def _check_max(input: Tensor, shape: tuple, output_size: tuple) -> None:
    """PyTorch's checks of `adaptive_max_pool2d` for an input of `shape`."""
    if len(shape) not in (3, 4):
        raise RuntimeError(f"adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: {sizes(shape)}")
    _check_nonempty("adaptive_max_pool2d", shape)
    if len(output_size) != 2:
        raise RuntimeError("adaptive_max_pool2d(): internal error: output_size.size() must be 2")
    negative = next((size for size in output_size if size < 0), None)
    if negative is not None:
        raise RuntimeError(f"Trying to create tensor with negative dimension {negative}: "
                           f"{sizes((*shape[:-2], *output_size))}")
    if not input.dtype.is_floating_point:
        raise not_implemented("adaptive_max_pool2d", input)
    _refuse_empty_output("adaptive_max_pool2d", output_size)


def _length_of(output_size, who: str) -> int:
    """A 1-D pool's output length: an int or a one-int sequence (PyTorch's argument parser)."""
    values = (output_size,) if is_int(output_size) else tuple(output_size)
    if len(values) != 1:
        raise RuntimeError(f"{who}() argument 'output_size' should contain one int (got {len(values)})")
    return int(values[0])


def _check_1d(input: Tensor, output_size, who: str) -> tuple[tuple, int]:
    """The input's shape with a height of 1, and the output length, after PyTorch's checks."""
    length = _length_of(output_size, who)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor for argument #1 'self' "
                           f"(while checking arguments for {who})")
    return (*input.shape[:-1], 1, input.shape[-1]), length


def adaptive_avg_pool2d(input: Tensor, output_size):
    """Means over `output_size` bins per axis, as PyTorch splits them (`nablax.nn.adaptive_avg_pool2d`)."""
    output_size = _adaptive_output_size(output_size, input)
    _check_avg(input, input.shape, output_size)
    # PyTorch computes a (1, 1) output as a mean over the last two dimensions.
    grad_name = "MeanBackward1" if output_size == (1, 1) else "AdaptiveAvgPool2DBackward0"
    return record_pool(ADAPTIVE_AVG_POOL2D, input, (*input.shape[:-2], *output_size), grad_name,
                       (("output_size", tuple(int(size) for size in output_size)),))


def adaptive_avg_pool1d(input: Tensor, output_size):
    """Means over `output_size` bins of (N, C, L) or (C, L) (`nablax.nn.adaptive_avg_pool1d`)."""
    shape, length = _check_1d(input, output_size, "adaptive_avg_pool1d")
    _check_avg(input, shape, (1, length))
    return record_pool(ADAPTIVE_AVG_POOL1D, input, (*input.shape[:-1], length), "SqueezeBackward1",
                       (("output_size", length),))


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """The maximum of each of `output_size` bins per axis, and with `return_indices` its
    position `h * W + w` (`nablax.nn.adaptive_max_pool2d`)."""
    output_size = tuple(int(size) for size in _adaptive_output_size(output_size, input))
    _check_max(input, input.shape, output_size)
    return record_pool(ADAPTIVE_MAX_POOL2D, input, (*input.shape[:-2], *output_size), "AdaptiveMaxPool2DBackward0",
                       (("output_size", output_size),), return_indices)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """The maximum of each of `output_size` bins of (N, C, L) or (C, L), and with
    `return_indices` its position along L (`nablax.nn.adaptive_max_pool1d`)."""
    shape, length = _check_1d(input, output_size, "adaptive_max_pool1d")
    _check_max(input, shape, (1, length))
    return record_pool(ADAPTIVE_MAX_POOL1D, input, (*input.shape[:-1], length), "SqueezeBackward1",
                       (("output_size", length),), return_indices)
