"""Copies that repeat, turn or spread elements: `repeat`, `tile`, `repeat_interleave`,
`rot90`, `diag_embed`, `diagflat`, and `sum_to_size` (the sum that undoes a repeat of
broadcasting), with PyTorch's checks.

    >>> import nablax.stateful as torch
    >>> torch.tensor([1, 2]).repeat(2).tolist(), torch.tensor([1, 2]).repeat_interleave(2).tolist()
    ([1, 2, 1, 2], [1, 1, 2, 2])
"""

from __future__ import annotations

import jax.numpy as jnp

from .. import dtypes as dt
from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from ..views import wrap_dim
from . import creation, reductions
from . import shape as S

_REPEAT = Op("repeat", lambda x, *, reps: jnp.tile(x, reps), saves=False)


def repeat(input: Tensor, *sizes) -> Tensor:
    """`input` repeated `sizes[i]` times along each dim (leading sizes add dims)."""
    sizes = S.size_args(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    padded = (1,) * (len(sizes) - input.ndim) + tuple(input.shape)
    shape = tuple(s * n for s, n in zip(padded, sizes))
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: [{', '.join(map(str, shape))}]")
    return record(_REPEAT, (S.reshape(input, padded) if padded != input.shape else input,), shape, input.dtype.numpy,
                  "RepeatBackward0", (("reps", sizes),))


def tile(input: Tensor, dims) -> Tensor:
    """`repeat`, with `dims` padded by leading 1s to the tensor's dims."""
    dims = tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def _repeat_interleave_fn(x, *, repeats, dim, total):
    return jnp.repeat(x, jnp.asarray(repeats) if isinstance(repeats, tuple) else repeats, axis=dim,
                      total_repeat_length=total)


_REPEAT_INTERLEAVE = Op("repeat_interleave", _repeat_interleave_fn, saves=False)


def repeat_interleave(input: Tensor, repeats=None, dim: int | None = None, *, output_size: int | None = None) -> Tensor:
    """Each element repeated `repeats` times (a number, or one count per element) along `dim`
    (of the flattened tensor without it). `torch.repeat_interleave(counts)` alone gives the
    positions `0..n-1`, each repeated its count."""
    if repeats is None:  # the counts themselves: index i repeated counts[i] times
        counts = input
        return repeat_interleave(_arange_like(counts), counts, 0, output_size=output_size)
    if dim is None:
        input, dim = S.reshape(input, -1), 0
    d = wrap_dim(dim, input.ndim)
    length = input.shape[d] if input.ndim else 1
    counts_given = isinstance(repeats, Tensor)
    if counts_given:
        if repeats.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if repeats.dtype not in (dt.int64, dt.int32):
            raise RuntimeError("repeats has to be Long or Int tensor")
        values = [int(v) for v in repeats._host().reshape(-1)]
        if repeats.ndim == 0:
            values = values[0]
        elif len(values) != length:
            raise RuntimeError("repeats must have the same size as input along dim, but got repeats.size(0) = "
                               f"{len(values)} and input.size({d}) = {length}")
        repeats = values
    counts = list(repeats) if isinstance(repeats, (list, tuple)) else [int(repeats)] * length
    if any(c < 0 for c in counts):
        raise RuntimeError("repeats can not be negative")
    total = sum(counts)
    source = input if input.ndim else S.reshape(input, 1)
    shape = source.shape[:d] + (total,) + source.shape[d + 1 :]
    static = tuple(counts) if isinstance(repeats, (list, tuple)) else int(repeats)
    # (PyTorch gathers for counts in a tensor, and expands and reshapes for one count)
    grad_name = "IndexSelectBackward0" if isinstance(repeats, (list, tuple)) or counts_given else "ViewBackward0"
    return record(_REPEAT_INTERLEAVE, (source,), shape, input.dtype.numpy, grad_name,
                  (("repeats", static), ("dim", d), ("total", total)))


def _arange_like(counts: Tensor) -> Tensor:
    if counts.ndim != 1:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    return creation.arange(counts.shape[0], dtype=counts.dtype)


_ROT90 = Op("rot90", lambda x, *, k, axes: jnp.rot90(x, k, axes), saves=False)


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """`input` turned by `k` quarter turns in the plane of `dims`, from the first dim's
    direction towards the second's."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    a, b = wrap_dim(dims[0], input.ndim), wrap_dim(dims[1], input.ndim)
    if a == b:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {a} and dim1 = {b}")
    return record(_ROT90, (input,), _turned_shape(input.shape, k, a, b), input.dtype.numpy, "Rot90Backward0",
                  (("k", k % 4), ("axes", (a, b))))


def _turned_shape(shape: tuple, k: int, a: int, b: int) -> tuple:
    turned = list(shape)
    if k % 2:
        turned[a], turned[b] = shape[b], shape[a]
    return tuple(turned)


def _diag_embed_fn(x, *, offset, dim1, dim2):
    n = x.shape[-1]
    size = n + abs(offset)
    positions = jnp.arange(n)
    result = jnp.zeros(x.shape[:-1] + (size, size), x.dtype)
    result = result.at[..., positions + max(-offset, 0), positions + max(offset, 0)].set(x)
    return jnp.moveaxis(result, (-2, -1), (dim1, dim2))


_DIAG_EMBED = Op("diag_embed", _diag_embed_fn, saves=False)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices whose `offset` diagonal (in dims `dim1`, `dim2` of the result) holds the last
    dim of `input`; zeros elsewhere."""
    ndim = input.ndim + 1
    a, b = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    source = input if input.ndim else S.reshape(input, 1)
    size = source.shape[-1] + abs(offset)
    rest = iter(source.shape[:-1])
    shape = tuple(size if d in (a, b) else next(rest) for d in range(ndim if input.ndim else 2))
    return record(_DIAG_EMBED, (source,), shape, input.dtype.numpy, "DiagEmbedBackward0",
                  (("offset", int(offset)), ("dim1", a), ("dim2", b)))


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The elements of `input` (flattened) on the `offset` diagonal of a square matrix."""
    return diag_embed(S.reshape(input, -1), offset)


def sum_to_size(input: Tensor, *size) -> Tensor:
    """`input` summed down to `size`, which it must be expandable from: the gradient of an
    expand to `input`'s shape."""
    size = S.size_args(size)
    if not _expandable(size, input.shape):
        raise RuntimeError(f"size {{[{', '.join(map(str, size))}]}} is not expandable to size "
                           f"{{[{', '.join(map(str, input.shape))}]}}.")
    if not size:  # PyTorch sums everything into a 0-d result (bools then count as int64)
        return reductions.sum(input)
    lead = input.ndim - len(size)
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size) if s == 1 and input.shape[lead + i] != 1)
    if not dims:
        return input
    summed = reductions.sum(input, dims, keepdim=True)
    return S.reshape(summed, size) if lead else summed


def _expandable(size: tuple, shape: tuple) -> bool:
    """Whether a tensor of `size` expands to `shape` (PyTorch's `is_expandable_to`)."""
    if len(size) > len(shape):
        return False
    return all(s == t or s == 1 for s, t in zip(reversed(size), reversed(shape)))


FUNCTIONS = {function.__name__: function for function in (tile, repeat_interleave, rot90, diag_embed, diagflat)}
METHODS = {**FUNCTIONS, "repeat": repeat, "sum_to_size": sum_to_size}
