"""Sliding blocks of (N, C, H, W) inputs: PyTorch's `unfold` (im2col), which lists every
block as a column, and `fold` (col2im), which sums columns back into an image."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._spatial import as_tuple


def _block_positions(sizes, kernel, dilation, padding, stride) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """Row and column positions, in the padded image, of every element of every block:
    broadcastable `[kH, 1, oH, 1]` and `[1, kW, 1, oW]`; and the number of blocks per axis."""
    counts = tuple((size + 2 * p - d * (k - 1) - 1) // s + 1
                   for size, k, d, p, s in zip(sizes, kernel, dilation, padding, stride))
    rows, cols = (np.arange(k)[:, None] * d + np.arange(n)[None, :] * s
                  for k, d, s, n in zip(kernel, dilation, stride, counts))
    return rows[:, None, :, None], cols[None, :, None, :], counts


def _arguments(kernel_size, dilation, padding, stride, who: str):
    return tuple(as_tuple(value, 2, name, who) for value, name in
                 ((kernel_size, "kernel_size"), (dilation, "dilation"), (padding, "padding"), (stride, "stride")))


def unfold(x, kernel_size, dilation=1, padding=0, stride=1) -> jax.Array:
    """`torch.nn.functional.unfold`: (N, C, H, W) -> (N, C * kH * kW, L), one column per block
    (L blocks, row-major), its elements ordered by channel, then kernel row and column.

        >>> import jax.numpy as jnp
        >>> unfold(jnp.arange(9.0).reshape(1, 3, 3), 2).tolist()
        [[0.0, 1.0, 3.0, 4.0], [1.0, 2.0, 4.0, 5.0], [3.0, 4.0, 6.0, 7.0], [4.0, 5.0, 7.0, 8.0]]
    """
    kernel, dilation, padding, stride = _arguments(kernel_size, dilation, padding, stride, "unfold")
    x = jnp.asarray(x)
    padded = jnp.pad(x, [(0, 0)] * (x.ndim - 2) + [(p, p) for p in padding])
    rows, cols, counts = _block_positions(x.shape[-2:], kernel, dilation, padding, stride)
    blocks = padded[..., rows, cols]  # (..., C, kH, kW, oH, oW)
    return blocks.reshape(*x.shape[:-3], x.shape[-3] * kernel[0] * kernel[1], counts[0] * counts[1])


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1) -> jax.Array:
    """`torch.nn.functional.fold`: (N, C * kH * kW, L) -> (N, C, H, W), the sum of the blocks
    at their places (the transpose of `unfold`).

        >>> import jax.numpy as jnp
        >>> fold(jnp.ones((4, 4)), (3, 3), 2).tolist()
        [[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]
    """
    kernel, dilation, padding, stride = _arguments(kernel_size, dilation, padding, stride, "fold")
    sizes = as_tuple(output_size, 2, "output_size", "fold")
    x = jnp.asarray(x)
    rows, cols, counts = _block_positions(sizes, kernel, dilation, padding, stride)
    channels = x.shape[-2] // (kernel[0] * kernel[1])
    blocks = x.reshape(*x.shape[:-2], channels, *kernel, *counts)
    padded = jnp.zeros((*x.shape[:-2], channels, *(s + 2 * p for s, p in zip(sizes, padding))), x.dtype)
    padded = padded.at[..., rows, cols].add(blocks)
    return padded[..., padding[0]:padding[0] + sizes[0], padding[1]:padding[1] + sizes[1]]
