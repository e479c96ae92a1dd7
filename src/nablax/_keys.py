"""PRNG keys: nablax takes a `jax.random.key` or a plain int seed wherever it needs randomness."""

from __future__ import annotations

import jax
import numpy as np


def as_key(key, *, what: str = "key") -> jax.Array:
    """Returns `key` as a JAX PRNG key; an int is taken as a seed.

        >>> as_key(0).shape
        ()
    """
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return jax.random.key(int(key))
    if isinstance(key, jax.Array):
        if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
            return key
        if key.shape == (2,) and key.dtype == np.uint32:  # a legacy jax.random.PRNGKey
            return jax.random.wrap_key_data(key)
    raise TypeError(
        f"{what} must be a jax.random.key(...) or an int seed, got {type(key).__name__}"
        f"{'' if not hasattr(key, 'shape') else f' of shape {tuple(key.shape)}'}; "
        f"e.g. {what}=jax.random.key(0) or {what}=0"
    )
