"""Metrics for training logs: pure functions of outputs and targets."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def accuracy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """The fraction of rows whose largest logit is at the label's index.

        >>> import jax.numpy as jnp
        >>> float(accuracy(jnp.array([[0.1, 0.9], [0.8, 0.2]]), jnp.array([1, 1])))
        0.5
    """
    if jnp.shape(logits)[:-1] != jnp.shape(labels):
        raise ValueError(
            f"accuracy: labels of shape {tuple(jnp.shape(labels))} do not match logits of shape "
            f"{tuple(jnp.shape(logits))} (expected labels of shape {tuple(jnp.shape(logits)[:-1])})"
        )
    return jnp.mean((jnp.argmax(logits, axis=-1) == labels).astype(jnp.float32))
