"""Batching and shuffling of in-memory arrays, driven by explicit PRNG keys.

A dataset is any pytree of arrays that share their leading (example) dimension, such as a
tuple `(x, y)`. The same key always gives the same order, on the host or inside `jit`:
`batches` walks the data from Python, one batch at a time; `stack_batches` gives the
`[num_batches, batch_size, ...]` form that a `lax.scan` over an epoch consumes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._keys import as_key

Data = Any  # a pytree of arrays with a common leading dimension


def num_examples(data: Data) -> int:
    """The common length of the leading dimension of every array in `data`.

        >>> import numpy as np
        >>> num_examples((np.zeros((5, 2)), np.zeros(5)))
        5
    """
    leaves, _ = jax.tree_util.tree_flatten_with_path(data)
    if not leaves:
        raise ValueError("data holds no arrays; pass e.g. (x, y) with one row per example")
    lengths = {}
    for path, leaf in leaves:
        if np.ndim(leaf) == 0:
            raise ValueError(f"data{jax.tree_util.keystr(path)} is a scalar; every array needs a leading example dimension")
        lengths[jax.tree_util.keystr(path)] = np.shape(leaf)[0]
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"data{name}: {length}" for name, length in lengths.items())
        raise ValueError(f"data arrays must have the same length along axis 0, got {described}")
    return next(iter(lengths.values()))


def check_batch_size(batch_size: int, n: int, drop_last: bool) -> None:
    """Raises a clear error for a batch size that cannot batch `n` examples."""
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if drop_last and batch_size > n:
        raise ValueError(f"batch_size={batch_size} with drop_last=True leaves no batch from {n} examples")


def epoch_order(n: int, key=None) -> jax.Array:
    """The order in which an epoch visits `n` examples: a permutation drawn from `key`, or
    `0..n-1` when `key` is None. Works inside `jit` too."""
    if key is None:
        return jnp.arange(n)
    return jax.random.permutation(as_key(key), n)


def epoch_key(key, epoch: int) -> jax.Array:
    """The key of epoch `epoch` of a run seeded by `key`: each epoch shuffles differently."""
    return jax.random.fold_in(as_key(key), epoch)


def batches(data: Data, batch_size: int, *, key=None, drop_last: bool = False, epochs: int = 1) -> Iterator[Data]:
    """Yields batches of `data` for `epochs` epochs, shuffled by `key` (in order when None).

    The last batch of an epoch is smaller when `batch_size` does not divide the data, unless
    `drop_last`. Indexing happens on the host, so NumPy data stays in NumPy.

        >>> import numpy as np
        >>> [len(batch) for batch in batches(np.arange(5), 2)]
        [2, 2, 1]
    """
    n = num_examples(data)
    check_batch_size(batch_size, n, drop_last)  # here, not at the first next()

    def generate():
        for epoch in range(epochs):
            order = epoch_order(n, None if key is None else epoch_key(key, epoch))
            yield from batches_in_order(data, order, batch_size, drop_last=drop_last)

    return generate()


def batches_in_order(data: Data, order, batch_size: int, *, drop_last: bool = False) -> Iterator[Data]:
    """Yields the batches of one epoch that visits the examples of `data` in `order`."""
    order = np.asarray(order)
    stop = len(order) - len(order) % batch_size if drop_last else len(order)
    for start in range(0, stop, batch_size):
        index = order[start : start + batch_size]
        yield jax.tree_util.tree_map(lambda array: array[index], data)


def stack_batches(data: Data, batch_size: int, *, key=None) -> tuple[Data, Data | None]:
    """Shuffles `data` by `key` and splits it into full batches stacked along a new leading
    axis, `[num_batches, batch_size, ...]`, plus the remainder (None when there is none).

    This is the form a scanned epoch consumes; it works inside `jit`.

        >>> import numpy as np
        >>> stacked, rest = stack_batches(np.arange(5), 2)
        >>> stacked.tolist(), rest.tolist()
        ([[0, 1], [2, 3]], [4])
    """
    n = num_examples(data)
    check_batch_size(batch_size, n, drop_last=False)
    num_full = n // batch_size
    order = epoch_order(n, key)

    shuffled = jax.tree_util.tree_map(lambda array: jnp.take(jnp.asarray(array), order, axis=0), data)
    end = num_full * batch_size
    stacked = jax.tree_util.tree_map(lambda a: a[:end].reshape((num_full, batch_size) + a.shape[1:]), shuffled)
    remainder = jax.tree_util.tree_map(lambda a: a[end:], shuffled) if n % batch_size else None
    return stacked, remainder
