"""The identity layer, a placeholder that returns its input (e.g. for a replaced head)."""

from __future__ import annotations

import dataclasses

import jax

from .layer import Layer, Params


@dataclasses.dataclass(frozen=True, repr=False)
class Identity(Layer):
    """`torch.nn.Identity`: returns its input unchanged.

        >>> import jax.numpy as jnp
        >>> Identity(), Identity().apply({}, jnp.ones(2)).tolist()
        (Identity(), [1.0, 1.0])
    """

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        return x
