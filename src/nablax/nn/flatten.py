"""Flatten a contiguous range of dimensions into one, as `torch.flatten` does."""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp

from .layer import Layer, Params


def flatten(x: jax.Array, start_dim: int = 0, end_dim: int = -1) -> jax.Array:
    """Merges dimensions `start_dim..end_dim` (inclusive) of `x` into one.

        >>> import jax.numpy as jnp
        >>> flatten(jnp.zeros((2, 3, 4)), 1).shape
        (2, 12)
    """
    shape = jnp.shape(x)
    if len(shape) == 0:
        return jnp.reshape(x, (1,))
    ndim = len(shape)
    start, end = (d + ndim if d < 0 else d for d in (start_dim, end_dim))
    if not (0 <= start < ndim and 0 <= end < ndim):
        raise IndexError(
            f"flatten: dimensions ({start_dim}, {end_dim}) out of range for an input of shape {tuple(shape)}"
        )
    if start > end:
        raise ValueError(f"flatten() has invalid args: start_dim {start_dim} cannot come after end_dim {end_dim}")
    return jnp.reshape(x, shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :])


@dataclasses.dataclass(frozen=True, repr=False)
class Flatten(Layer):
    """`torch.nn.Flatten(start_dim=1, end_dim=-1)`: keeps the batch dimension."""

    start_dim: int = 1
    end_dim: int = -1

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        return flatten(x, self.start_dim, self.end_dim)
