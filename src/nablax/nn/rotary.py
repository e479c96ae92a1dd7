"""Rotary position embeddings (RoPE, Su et al. 2021) as one pure function.

Convention: feature pairs are rotated by the angle `position * base ** (-2i / D)` for pair
i = 0 .. D/2 - 1 of a D-wide head. By default a pair is (x[i], x[i + D/2]), the two halves
of the head ("rotate half", as GPT-NeoX and Hugging Face's Llama lay it out);
`interleaved=True` pairs neighbours (x[2i], x[2i + 1]), as the RoFormer paper and Meta's
Llama code do. The two differ by a fixed permutation of the features, so weights move
between them by permuting the query and key projections' rows.

Rotating queries and keys by their positions makes q . k depend on the positions only
through their difference, and a rotation keeps every vector's norm.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def rotary_embedding(x, positions=None, *, base: float = 10000.0, interleaved: bool = False) -> jax.Array:
    """Applies RoPE to `x` (queries or keys) of shape (..., D), D even.

    `positions` (integers or floats) broadcasts against `x.shape[:-1]`; None means positions
    0, 1, ... along axis -2, PyTorch's (batch, heads, length, D) layout. For JAX's
    (batch, length, heads, D) layout pass `positions=jnp.arange(length)[:, None]`.

        >>> import jax.numpy as jnp
        >>> q = jnp.ones((1, 2, 5, 8))  # batch, heads, length, head width
        >>> rotary_embedding(q).shape
        (1, 2, 5, 8)
        >>> bool(jnp.allclose(rotary_embedding(q)[..., 0, :], q[..., 0, :]))  # position 0 is not rotated
        True
    """
    x = jnp.asarray(x)
    if x.ndim < 1 or x.shape[-1] % 2:
        raise ValueError(f"rotary_embedding: the last dimension of x must be even (pairs of features), got shape {x.shape}")
    if positions is None:
        if x.ndim < 2:
            raise ValueError(f"rotary_embedding: x of shape {x.shape} has no length axis (-2); pass positions=")
        positions = jnp.arange(x.shape[-2])[:, None]
    else:
        positions = jnp.asarray(positions)[..., None]
    width = x.shape[-1]
    # Angles in at least float32: position * frequency loses too much in half precision.
    angle_dtype = jnp.promote_types(x.dtype, jnp.float32)
    frequencies = base ** (-jnp.arange(0, width, 2, dtype=angle_dtype) / width)
    angles = positions.astype(angle_dtype) * frequencies
    cos, sin = jnp.cos(angles).astype(x.dtype), jnp.sin(angles).astype(x.dtype)
    if interleaved:
        first, second = x[..., 0::2], x[..., 1::2]
        rotated = jnp.stack([first * cos - second * sin, first * sin + second * cos], axis=-1)
        return rotated.reshape(rotated.shape[:-2] + (width,))
    first, second = x[..., : width // 2], x[..., width // 2 :]
    return jnp.concatenate([first * cos - second * sin, first * sin + second * cos], axis=-1)
