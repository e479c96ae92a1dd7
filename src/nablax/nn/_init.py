"""PyTorch's initial distributions (`torch.nn.init`), as pure functions of a key and a shape."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) as `torch.nn.init` counts them: dims 1 and 0 times the receptive field."""
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def uniform(key, shape, bound: float, dtype=jnp.float32) -> jax.Array:
    """U(-bound, bound)."""
    return jax.random.uniform(key, shape, dtype, -bound, bound)


def xavier_uniform(key, shape, dtype=jnp.float32) -> jax.Array:
    """U(-a, a) with a = sqrt(6 / (fan_in + fan_out)), `torch.nn.init.xavier_uniform_`.

        >>> import jax
        >>> float(abs(xavier_uniform(jax.random.key(0), (30, 10))).max()) <= (6 / 40) ** 0.5
        True
    """
    fan_in, fan_out = fans(shape)
    return uniform(key, shape, math.sqrt(6.0 / (fan_in + fan_out)), dtype)


def xavier_normal(key, shape, dtype=jnp.float32) -> jax.Array:
    """N(0, 2 / (fan_in + fan_out)), `torch.nn.init.xavier_normal_`."""
    fan_in, fan_out = fans(shape)
    return math.sqrt(2.0 / (fan_in + fan_out)) * jax.random.normal(key, shape, dtype)
