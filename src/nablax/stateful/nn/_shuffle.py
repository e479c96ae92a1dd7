"""`nn.functional.pixel_shuffle`, `pixel_unshuffle` and `channel_shuffle`: PyTorch's checks and
messages, each recorded as one op whose math is the function of `nablax.nn` of that name."""

from __future__ import annotations

from ... import nn as pure
from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from ._checks import sizes

PIXEL_SHUFFLE = Op("pixel_shuffle", pure.pixel_shuffle)
PIXEL_UNSHUFFLE = Op("pixel_unshuffle", pure.pixel_unshuffle)
CHANNEL_SHUFFLE = Op("channel_shuffle", pure.channel_shuffle)


def _check_pixel_input(input: Tensor, factor: int, who: str, name: str) -> None:
    if input.ndim < 3:
        raise RuntimeError(f"{who} expects input to have at least 3 dimensions, but got input with {input.ndim} "
                           "dimension(s)")
    if factor <= 0:
        raise RuntimeError(f"{who} expects a positive {name}, but got {factor}")


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C * r * r, H, W) -> (*, C, H * r, W * r) (`nablax.nn.pixel_shuffle`).

        >>> import nablax.stateful as torch
        >>> torch.nn.functional.pixel_shuffle(torch.arange(8.0).reshape(1, 4, 1, 2), 2).shape
        torch.Size([1, 1, 2, 4])
    """
    r = int(upscale_factor)
    _check_pixel_input(input, r, "pixel_shuffle", "upscale_factor")
    channels, height, width = input.shape[-3:]
    if channels % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={channels} is not divisible by {r * r}")
    shape = (*input.shape[:-3], channels // (r * r), height * r, width * r)
    return record(PIXEL_SHUFFLE, (input,), shape, input.dtype.numpy, "PixelShuffleBackward0", (("upscale_factor", r),))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H * r, W * r) -> (*, C * r * r, H, W) (`nablax.nn.pixel_unshuffle`)."""
    r = int(downscale_factor)
    _check_pixel_input(input, r, "pixel_unshuffle", "downscale_factor")
    channels, height, width = input.shape[-3:]
    for name, dim, size in (("height", -2, height), ("width", -1, width)):
        if size % r:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                               f"input.size({dim})={size} is not divisible by {r}")
    shape = (*input.shape[:-3], channels * r * r, height // r, width // r)
    return record(PIXEL_UNSHUFFLE, (input,), shape, input.dtype.numpy, "PixelUnshuffleBackward0",
                  (("downscale_factor", r),))


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleaves the `groups` groups of channels of (N, C, *) (`nablax.nn.channel_shuffle`)."""
    if input.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes {sizes(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    if input.shape[1] % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {input.shape[1]} channels and {groups} "
                           "groups.")
    return record(CHANNEL_SHUFFLE, (input,), tuple(input.shape), input.dtype.numpy, "ChannelShuffleBackward0",
                  (("groups", int(groups)),))
