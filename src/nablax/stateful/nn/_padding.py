"""`nn.functional.pad`: PyTorch's checks and messages, recorded as one op whose math is
`nablax.nn.pad`."""

from __future__ import annotations

from ... import nn as pure
from ..engine import Op
from ..tensor import Tensor
from ._checks import is_int, record_traced, sizes

PAD = Op("pad", pure.pad)
_KERNELS = {"reflect": "reflection_pad", "replicate": "replication_pad"}
_GRAD_NAMES = {"reflect": "ReflectionPad{}DBackward0", "replicate": "ReplicationPad{}DBackward0",
               "circular": "CopySlices"}


def _check_constant(input: Tensor, pad: tuple) -> None:
    if len(pad) // 2 > input.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {input.ndim}")
    for (before, after), size in zip(pure.padding_pairs(pad, input.ndim), input.shape):
        if size + before + after < 0:
            raise RuntimeError("narrow(): length must be non-negative.")


def _check_edges(input: Tensor, pad: tuple, mode: str, value) -> int:
    """PyTorch's checks of a reflect, replicate or circular padding; returns how many
    dimensions it pads."""
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    dims = len(pad) // 2
    if dims not in (1, 2, 3) or input.ndim not in (dims + 1, dims + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    if mode in _KERNELS and input.dtype.name == "bool":
        raise NotImplementedError(f"\"{_KERNELS[mode]}{dims}d\" not implemented for 'Bool'")
    if mode in _KERNELS and 0 in input.shape[1 if input.ndim == dims + 2 else 0:]:
        raise RuntimeError(f"Expected {dims + 1}D or {dims + 2}D (batch mode) tensor with possibly 0 batch size and "
                           f"other non-zero dimensions for input, but got: {sizes(input.shape)}")
    pairs = pure.padding_pairs(pad, input.ndim)
    for dim, ((before, after), size) in enumerate(zip(pairs, input.shape)):
        if dim < input.ndim - dims:
            continue
        if mode == "reflect" and (before >= size or after >= size):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, but "
                               f"got: padding ({before}, {after}) at dimension {dim} of input {sizes(input.shape)}")
        if mode == "circular" and (before > size or after > size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
    return dims


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pads the last `len(pad) // 2` dimensions of `input`; `pad` lists (before, after) for
    the last dimension first. A negative padding crops (`nablax.nn.pad`).

        >>> import nablax.stateful as torch
        >>> torch.nn.functional.pad(torch.tensor([[1.0, 2.0]]), (1, 1), "replicate").tolist()
        [[1.0, 1.0, 2.0, 2.0]]
    """
    pad = tuple(pad)
    if len(pad) % 2 or not all(is_int(p) for p in pad):
        raise RuntimeError("Padding length must be divisible by 2")
    if mode == "constant":
        _check_constant(input, pad)
        grad_name = "ConstantPadNdBackward0"
    elif mode in _GRAD_NAMES:
        grad_name = _GRAD_NAMES[mode].format(_check_edges(input, pad, mode, value))
    else:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    static = (("pad", tuple(int(p) for p in pad)), ("mode", mode), ("value", None if value is None else float(value)))
    return record_traced(PAD, (input,), grad_name, static)
