"""Embedding lookup: row `i` of a `[num_embeddings, embedding_dim]` table for each index `i`,
with PyTorch's `padding_idx` (a row that is looked up but never receives gradient); and
`one_hot`, the lookup in an identity table."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from .._keys import as_key
from ._spatial import check_positive_int, is_int
from .layer import Layer, Params, check_params


def _normalised_padding_idx(padding_idx: int | None, num_embeddings: int, who: str) -> int | None:
    """`padding_idx` in [0, num_embeddings); a negative one counts from the end, as in PyTorch."""
    if padding_idx is None:
        return None
    if not is_int(padding_idx) or not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(
            f"{who}: padding_idx must be within num_embeddings={num_embeddings} "
            f"(from {-num_embeddings} to {num_embeddings - 1}), got {padding_idx!r}"
        )
    return int(padding_idx) % num_embeddings


def _check_indices(indices: jax.Array, num_embeddings: int, who: str, size_name: str = "num_embeddings") -> None:
    """Raises for non-integer indices and, when their values are known, ones outside
    [0, num_embeddings) (`size_name` is what the message calls that size)."""
    if not jnp.issubdtype(indices.dtype, jnp.integer):
        raise TypeError(f"{who}: indices must be integers, got an array of dtype {indices.dtype}")
    if isinstance(indices, jax.core.Tracer) or indices.size == 0:
        return  # traced under jit: out-of-range rows come out as NaN instead
    # On the host: under a jit trace even ops on a known array would be traced.
    values = np.asarray(indices)
    low, high = int(values.min()), int(values.max())
    if low < 0 or high >= num_embeddings:
        bad = low if low < 0 else high
        raise IndexError(
            f"{who}: index {bad} is out of range for {size_name}={num_embeddings} (0 to {num_embeddings - 1})"
        )


def _scaled_gradient(x: jax.Array, scale: jax.Array) -> jax.Array:
    """`x` itself (exactly: `x + 0`), whose gradient is multiplied by `scale` on the way back."""
    frozen = jax.lax.stop_gradient(x)
    return frozen + (x - frozen) * scale


def _embedding(indices, weight, padding_idx, who: str, scale_grad_by_freq: bool = False) -> jax.Array:
    indices, weight = jnp.asarray(indices), jnp.asarray(weight)
    if weight.ndim != 2:
        raise ValueError(f"{who}: weight must be 2-D [num_embeddings, embedding_dim], got shape {weight.shape}")
    num_embeddings = weight.shape[0]
    padding_idx = _normalised_padding_idx(padding_idx, num_embeddings, who)
    _check_indices(indices, num_embeddings, who)
    # Negative indices would wrap around in JAX; send them out of range, where "fill" gives NaN.
    positions = jnp.where(indices < 0, num_embeddings, indices)
    rows = jnp.take(weight, positions, axis=0, mode="fill")
    if scale_grad_by_freq:  # each row's gradient is divided by how often the batch looks it up
        counts = jnp.zeros(num_embeddings, weight.dtype).at[positions.ravel()].add(1, mode="drop")
        rows = _scaled_gradient(rows, 1 / jnp.take(counts, positions, mode="fill", fill_value=1)[..., None])
    if padding_idx is None:
        return rows
    # Cutting the gradient per looked-up row costs O(output), not a pass over the whole table.
    is_padding = (indices == padding_idx)[..., None]
    return jnp.where(is_padding, jax.lax.stop_gradient(rows), rows)


def embedding(indices, weight, padding_idx: int | None = None, scale_grad_by_freq: bool = False) -> jax.Array:
    """`torch.nn.functional.embedding`: `weight[indices]`, of shape `indices.shape + (embedding_dim,)`;
    the `padding_idx` row is returned as it is but gets no gradient; with `scale_grad_by_freq`
    each row's gradient is divided by the number of times `indices` holds it.

        >>> import jax.numpy as jnp
        >>> embedding(jnp.array([[0, 2]]), jnp.arange(6.0).reshape(3, 2)).tolist()
        [[[0.0, 1.0], [4.0, 5.0]]]
    """
    return _embedding(indices, weight, padding_idx, "embedding", scale_grad_by_freq)


def one_hot(indices, num_classes: int = -1) -> jax.Array:
    """`torch.nn.functional.one_hot`: a 1 at each index along a new last axis of size
    `num_classes`, in the indices' integer dtype. `num_classes=-1` takes the largest index
    plus one, which needs known values: pass `num_classes` under `jit`.

        >>> import jax.numpy as jnp
        >>> one_hot(jnp.array([2, 0])).tolist()
        [[0, 0, 1], [1, 0, 0]]
    """
    indices = jnp.asarray(indices)
    if num_classes == -1:
        if isinstance(indices, jax.core.Tracer):
            raise ValueError("one_hot: num_classes=-1 infers the number of classes from the values, which are unknown "
                             "under jit; pass num_classes")
        if not indices.size:
            raise ValueError("one_hot: cannot infer num_classes from empty indices; pass num_classes")
        num_classes = int(np.asarray(indices).max()) + 1
    check_positive_int(num_classes, "num_classes", "one_hot")
    _check_indices(indices, num_classes, "one_hot", "num_classes")
    return (indices[..., None] == jnp.arange(num_classes, dtype=indices.dtype)).astype(indices.dtype)


@dataclasses.dataclass(frozen=True, repr=False)
class Embedding(Layer):
    """`torch.nn.Embedding(num_embeddings, embedding_dim, padding_idx=None)`: weight
    `[num_embeddings, embedding_dim]` from N(0, 1), with the `padding_idx` row zeroed.

        >>> import jax.numpy as jnp
        >>> layer = Embedding(10, 3, padding_idx=-1)
        >>> layer
        Embedding(10, 3, padding_idx=9)
        >>> params = layer.init(0)
        >>> layer.apply(params, jnp.array([[1, 9], [4, 5]])).shape
        (2, 2, 3)
        >>> params["weight"][9].tolist()
        [0.0, 0.0, 0.0]
    """

    num_embeddings: int
    embedding_dim: int
    padding_idx: int | None = None
    dtype: jnp.dtype = dataclasses.field(default=jnp.float32, repr=False)

    def __post_init__(self):
        name = type(self).__name__
        check_positive_int(self.num_embeddings, "num_embeddings", name)
        check_positive_int(self.embedding_dim, "embedding_dim", name)
        # Stored counted from the start, as PyTorch stores it.
        object.__setattr__(self, "padding_idx", _normalised_padding_idx(self.padding_idx, self.num_embeddings, name))

    def init(self, key) -> Params:
        weight = jax.random.normal(as_key(key), (self.num_embeddings, self.embedding_dim), self.dtype)
        if self.padding_idx is not None:
            weight = weight.at[self.padding_idx].set(0)
        return {"weight": weight}

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        check_params(self, params, {"weight": (self.num_embeddings, self.embedding_dim)})
        return _embedding(x, params["weight"], self.padding_idx, repr(self))

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text if self.padding_idx is None else f"{text}, padding_idx={self.padding_idx}"
