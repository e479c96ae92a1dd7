"""Rearrangements of channels and pixels: PyTorch's `pixel_shuffle`, `pixel_unshuffle` and
`channel_shuffle` over (*, C, H, W) inputs, as reshapes and transposes."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def pixel_shuffle(x, upscale_factor: int) -> jax.Array:
    """(*, C * r * r, H, W) -> (*, C, H * r, W * r): each group of r * r channels becomes an
    r-by-r block of pixels.

        >>> import jax.numpy as jnp
        >>> pixel_shuffle(jnp.arange(4.0).reshape(4, 1, 1), 2).tolist()
        [[[0.0, 1.0], [2.0, 3.0]]]
    """
    x, r = jnp.asarray(x), int(upscale_factor)
    *lead, channels, height, width = x.shape
    blocks = x.reshape(*lead, channels // (r * r), r, r, height, width)
    n = len(lead)
    blocks = blocks.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return blocks.reshape(*lead, channels // (r * r), height * r, width * r)


def pixel_unshuffle(x, downscale_factor: int) -> jax.Array:
    """(*, C, H * r, W * r) -> (*, C * r * r, H, W): the inverse of `pixel_shuffle`.

        >>> import jax.numpy as jnp
        >>> pixel_unshuffle(jnp.arange(4.0).reshape(1, 2, 2), 2).ravel().tolist()
        [0.0, 1.0, 2.0, 3.0]
    """
    x, r = jnp.asarray(x), int(downscale_factor)
    *lead, channels, height, width = x.shape
    blocks = x.reshape(*lead, channels, height // r, r, width // r, r)
    n = len(lead)
    blocks = blocks.transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return blocks.reshape(*lead, channels * r * r, height // r, width // r)


def channel_shuffle(x, groups: int) -> jax.Array:
    """(N, C, *) with C = groups * k: channel g * k + i moves to i * groups + g.

        >>> import jax.numpy as jnp
        >>> channel_shuffle(jnp.arange(4.0).reshape(1, 4, 1), 2).ravel().tolist()
        [0.0, 2.0, 1.0, 3.0]
    """
    x = jnp.asarray(x)
    n, channels, *rest = x.shape
    grouped = x.reshape(n, int(groups), channels // int(groups), *rest)
    return jnp.swapaxes(grouped, 1, 2).reshape(x.shape)
