"""`nn.functional.unfold` and `fold`: PyTorch's checks and messages, recorded as one op whose
math is `nablax.nn.unfold`/`fold`."""

from __future__ import annotations

from ... import nn as pure
from ..engine import Op
from ..tensor import Tensor
from ._checks import is_int, record_traced, sizes

UNFOLD = Op("unfold", pure.unfold)
FOLD = Op("fold", pure.fold)


def _pairs(kernel_size, dilation, padding, stride) -> tuple:
    """The four arguments as pairs, after PyTorch's checks of their lengths and signs."""
    pairs = []
    for name, value in (("kernel_size", kernel_size), ("dilation", dilation), ("padding", padding),
                        ("stride", stride)):
        values = (value, value) if is_int(value) else tuple(value)
        if len(values) != 2:
            raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(values)}")
        pairs.append(tuple(int(v) for v in values))
    kernel, dilation, padding, stride = pairs
    for words, (a, b), bad, rule in ((("kernel size", "kernel_height", "kernel_width"), kernel, 0, "greater than zero"),
                                     (("stride", "stride_height", "stride_width"), stride, 0, "greater than zero"),
                                     (("dilation", "dilation_height", "dilation_width"), dilation, 0, "greater than zero"),
                                     (("padding", "pad_height", "pad_width"), padding, -1, "non-negative")):
        if min(a, b) <= bad:
            raise RuntimeError(f"{words[0]} should be {rule}, but got {words[1]}: {a} {words[2]}: {b}")
    return kernel, dilation, padding, stride


def _block_counts(spatial, kernel, dilation, padding, stride) -> tuple[int, int]:
    counts = tuple((size + 2 * p - d * (k - 1) - 1) // s + 1
                   for size, k, d, p, s in zip(spatial, kernel, dilation, padding, stride))
    if min(counts) < 1:
        raise RuntimeError(f"Given input with spatial size {tuple(spatial)}, kernel_size={kernel}, dilation={dilation}, "
                           f"padding={padding}, calculated shape of the array of sliding blocks as {counts}, but its "
                           "components must be at least one.")
    return counts


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Every sliding block of (N, C, H, W) or (C, H, W) as a column: (N, C * kH * kW, L)
    (`nablax.nn.unfold`).

        >>> import nablax.stateful as torch
        >>> torch.nn.functional.unfold(torch.ones(1, 2, 4, 4), 2).shape
        torch.Size([1, 8, 9])
    """
    if input.ndim < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of [-{input.ndim}, {input.ndim - 1}], but "
                         "got 2)")
    kernel, dilation, padding, stride = _pairs(kernel_size, dilation, padding, stride)
    if input.ndim not in (3, 4) or 0 in input.shape[-3:]:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
                           f"dimensions for input, but got: {sizes(input.shape)}")
    _block_counts(input.shape[-2:], kernel, dilation, padding, stride)
    static = (("kernel_size", kernel), ("dilation", dilation), ("padding", padding), ("stride", stride))
    return record_traced(UNFOLD, (input,), "Im2ColBackward0", static)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sums the columns of (N, C * kH * kW, L) or (C * kH * kW, L) into (N, C, *output_size)
    at their blocks' places (`nablax.nn.fold`)."""
    kernel, dilation, padding, stride = _pairs(kernel_size, dilation, padding, stride)
    output_size = (output_size, output_size) if is_int(output_size) else tuple(output_size)
    if input.ndim not in (2, 3) or 0 in input.shape[-2:]:
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero "
                           f"dimensions for input, but got: {sizes(input.shape)}")
    if input.shape[-2] % (kernel[0] * kernel[1]):
        raise RuntimeError("Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
                           f"input.size(1)={input.shape[-2]} and kernel_size={kernel}.")
    counts = _block_counts(output_size, kernel, dilation, padding, stride)
    if counts[0] * counts[1] != input.shape[-1]:
        raise RuntimeError(f"Given output_size={tuple(output_size)}, kernel_size={kernel}, dilation={dilation}, "
                           f"padding={padding}, stride={stride}, expected size of input's dimension 2 to match the "
                           f"calculated number of sliding blocks {counts[0]} * {counts[1]} = {counts[0] * counts[1]}, "
                           f"but got input.size(2)={input.shape[-1]}.")
    static = (("output_size", tuple(int(s) for s in output_size)), ("kernel_size", kernel), ("dilation", dilation),
              ("padding", padding), ("stride", stride))
    return record_traced(FOLD, (input,), "Col2ImBackward0", static)
