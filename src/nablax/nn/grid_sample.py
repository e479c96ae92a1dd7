"""Sampling of (N, C, H, W) or (N, C, D, H, W) inputs at the points of a grid, as PyTorch's
`nn.functional.grid_sample` samples them ('bilinear', 'nearest', 'bicubic' in 2-D; padding
'zeros', 'border', 'reflection'), with PyTorch's coordinate math (its GridSampler.h).

The grid holds normalised coordinates in [-1, 1], x (width) first. Points read outside
the input read zero; JAX differentiates the weights, so the grid gets PyTorch's gradient
(zero for 'nearest').
"""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp

from .resample import cubic_weights

def _unnormalize(coord, size: int, align_corners: bool):
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, twice_low: int, twice_high: int):
    """PyTorch's `reflect_coordinates`: `coord` folded into [low, high] by reflections."""
    if twice_low == twice_high:
        return jnp.zeros_like(coord)
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    coord = jnp.abs(coord - low)
    extra, flips = jnp.fmod(coord, span), jnp.floor(coord / span)
    return jnp.where(flips % 2 == 0, extra + low, span - extra + low)


def _padded(coord, size: int, padding_mode: str, align_corners: bool):
    """PyTorch's `compute_coordinates`: where a coordinate reads under `padding_mode`."""
    if padding_mode == "border":
        return jnp.clip(coord, 0, size - 1)
    if padding_mode == "reflection":
        bounds = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        return jnp.clip(_reflect(coord, *bounds), 0, size - 1)
    return coord


def _read(x, positions) -> jax.Array:
    """x[n, :, *positions[n, ...]] as (N, C, *out), zero where a position is outside the input."""
    sizes = x.shape[2:]
    inside = _all([(p >= 0) & (p <= size - 1) for p, size in zip(positions, sizes)])
    indices = [jnp.clip(p, 0, size - 1).astype(jnp.int32) for p, size in zip(positions, sizes)]
    batch = jnp.arange(x.shape[0]).reshape((-1,) + (1,) * (positions[0].ndim - 1))
    values = jnp.moveaxis(x[(batch, slice(None), *indices)], -1, 1)  # advanced indices first: (N, *out, C)
    return jnp.where(inside[:, None], values, jnp.zeros((), x.dtype))


def _all(masks):
    """The elementwise and of boolean arrays."""
    result = masks[0]
    for mask in masks[1:]:
        result = result & mask
    return result


def grid_sample(x, grid, mode: str = "bilinear", padding_mode: str = "zeros", align_corners: bool = False):
    """`torch.nn.functional.grid_sample`: (N, C, *in) sampled at `grid` (N, *out, dims) -> (N, C, *out).

        >>> import jax.numpy as jnp
        >>> x = jnp.arange(4.0).reshape(1, 1, 2, 2)
        >>> grid_sample(x, jnp.zeros((1, 1, 1, 2)), align_corners=True).tolist()
        [[[[1.5]]]]
    """
    x, grid = jnp.asarray(x), jnp.asarray(grid)
    sizes = x.shape[2:]
    coords = [_unnormalize(grid[..., len(sizes) - 1 - axis], size, align_corners) for axis, size in enumerate(sizes)]
    if mode == "bicubic":
        starts = [jnp.floor(c) for c in coords]
        weights = [cubic_weights(c - s) for c, s in zip(coords, starts)]
        out = 0
        for taps in itertools.product(range(4), repeat=len(sizes)):
            positions = [_padded(s - 1 + tap, size, padding_mode, align_corners)
                         for s, tap, size in zip(starts, taps, sizes)]
            weight = math.prod(w[tap] for w, tap in zip(weights, taps))
            out = out + _read(x, positions) * weight[:, None]
        return out
    coords = [_padded(c, size, padding_mode, align_corners) for c, size in zip(coords, sizes)]
    if mode == "nearest":
        return _read(x, [jnp.round(c) for c in coords])  # rounds half to even, as nearbyint does
    lows = [jnp.floor(c) for c in coords]
    out = 0
    for corner in itertools.product((0, 1), repeat=len(sizes)):
        weight = math.prod((c - low) if bit else (1 - (c - low)) for c, low, bit in zip(coords, lows, corner))
        out = out + _read(x, [low + bit for low, bit in zip(lows, corner)]) * weight[:, None]
    return out
