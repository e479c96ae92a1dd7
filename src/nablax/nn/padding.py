"""Padding of the last dimensions, computing what PyTorch's `nn.functional.pad` computes in its
four modes; a negative padding crops that side first (in every mode), as PyTorch does."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

# PyTorch's mode names -> `jnp.pad`'s (replicate is an index clamp: see `_replicate`).
_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def padding_pairs(pad, ndim: int) -> list[tuple[int, int]]:
    """`pad` (last dimension first, as PyTorch lists it: `(left, right, top, bottom, ...)`) as one
    `(before, after)` pair per dimension of an `ndim`-dimensional input, in order."""
    pairs = [(int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(len(pad) // 2)]
    return [(0, 0)] * (ndim - len(pairs)) + pairs[::-1]


def pad(x, pad, mode: str = "constant", value: float | None = None) -> jax.Array:
    """`torch.nn.functional.pad`: `pad` lists `(before, after)` for the last dimension, then
    the one before it, and so on; `mode` is 'constant' (with `value`, default 0), 'reflect',
    'replicate' or 'circular'.

        >>> import jax.numpy as jnp
        >>> pad(jnp.array([1.0, 2.0, 3.0]), (1, 2), "reflect").tolist()
        [2.0, 1.0, 2.0, 3.0, 2.0, 1.0]
        >>> pad(jnp.array([1, 2, 3]), (-1, 1), value=9).tolist()
        [2, 3, 9]
    """
    if mode not in _MODES:
        raise ValueError(f"pad: mode must be one of {sorted(_MODES)}, got {mode!r}")
    x = jnp.asarray(x)
    pairs = padding_pairs(pad, x.ndim)
    if mode == "replicate":
        return _replicate(x, pairs)
    x = x[tuple(slice(max(-before, 0), size - max(-after, 0)) for (before, after), size in zip(pairs, x.shape))]
    widths = [(max(before, 0), max(after, 0)) for before, after in pairs]
    if mode == "constant":
        return jnp.pad(x, widths, constant_values=jnp.asarray(0 if value is None else value).astype(x.dtype))
    return jnp.pad(x, widths, mode=_MODES[mode])


def _replicate(x, pairs) -> jax.Array:
    """Output position i of each axis reads input position clamp(i - before): with a negative
    padding, cropped away entirely, the edge repeated is still the input's own."""
    for axis, ((before, after), size) in enumerate(zip(pairs, x.shape)):
        if before or after:
            positions = np.clip(np.arange(size + before + after) - before, 0, size - 1)
            x = jnp.take(x, positions, axis=axis)
    return x
