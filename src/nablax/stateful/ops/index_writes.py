"""Writes at the positions that index tensors name: `index_add`, `index_copy`, `index_fill`
and `index_reduce` (slices along a dim), `index_put` (advanced indexing), `put` (the
flattened tensor) and `masked_scatter` (where a mask is set), with PyTorch's checks and
in-place forms. The index ops are scatters (gathering.py) of an index spread over the
source's shape. Index values are read when the op is recorded, for PyTorch's bound errors.

    >>> import nablax.stateful as torch
    >>> torch.zeros(3).index_add(0, torch.tensor([0, 2, 0]), torch.tensor([1.0, 2.0, 3.0]))
    tensor([4., 0., 2.])
    >>> torch.zeros(2, 2).masked_scatter(torch.tensor([[True, False], [False, True]]), torch.tensor([5.0, 6.0]))
    tensor([[5., 0.],
            [0., 6.]])
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .. import dtypes as dt
from .. import engine
from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from ..views import wrap_dim
from . import arithmetic as A
from .common import broadcast_shapes, cast, shape_of
from .gathering import check_bounds, scatter_along
from .inplace_forms import in_place

_INDEX_DTYPES = (dt.int64, dt.int32)


def _check_index(name: str, index: Tensor, d: int, size: int) -> None:
    if index.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector, but got dim: {index.ndim} with type: "
                         f"{index.dtype.scalar_name} and size: [{', '.join(map(str, index.shape))}]")
    if index.dtype not in _INDEX_DTYPES:
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index but got: {index.dtype.scalar_name}")
    check_bounds(index, d, size)


def _check_source(name: str, input: Tensor, d: int, index: Tensor, source: Tensor) -> None:
    if source.dtype is not input.dtype:
        raise RuntimeError(f"{name}(): self ({input.dtype.scalar_name}) and source ({source.dtype.scalar_name}) "
                           "must have the same scalar type")
    count = source.shape[d] if source.ndim else 1
    if index.numel() != count:
        raise RuntimeError(f"{name}(): Number of indices ({index.numel()}) should be equal to source.size(dim): "
                           f"({count}), for dim: {d}")
    if source.ndim and input.ndim and any(a != b for i, (a, b) in enumerate(zip(input.shape, source.shape)) if i != d) \
            or (source.ndim and input.ndim and source.ndim != input.ndim):
        raise RuntimeError("source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = [{', '.join(map(str, input.shape))}] source.shape = "
                           f"[{', '.join(map(str, source.shape))}]")


def _spread(index: Tensor, d: int, shape: tuple) -> Tensor:
    """The vector `index` along dim `d`, repeated over the other dims of `shape`."""
    if not shape:
        return index.reshape(())
    return index.reshape(tuple(-1 if i == d else 1 for i in range(len(shape)))).expand(shape)


def _index_scatter(name: str, input: Tensor, dim: int, index: Tensor, source: Tensor, reduce, grad_name: str,
                   include_self: bool = True) -> Tensor:
    d = wrap_dim(dim, input.ndim)
    _check_index(name, index, d, input.shape[d] if input.ndim else 1)
    _check_source(name, input, d, index, source)
    return scatter_along(input, d, _spread(index, d, tuple(source.shape)), source, reduce, grad_name, include_self)


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """`input` with `alpha * source`'s slices added to its slices at `index` along `dim`."""
    scaled = source if alpha == 1 else A.mul(source, alpha)
    return _index_scatter("index_add_", input, dim, index, scaled, "add", "IndexAddBackward0")


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """`input` with its slices at `index` along `dim` replaced by `source`'s."""
    return _index_scatter("index_copy_", input, dim, index, source, None, "IndexCopyBackward0")


_INDEX_REDUCTIONS = ("prod", "mean", "amax", "amin")


def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """`input` with `source`'s slices reduced ('prod', 'mean', 'amax' or 'amin') into its
    slices at `index` along `dim`."""
    if reduce not in _INDEX_REDUCTIONS:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    return _index_scatter("index_reduce_", input, dim, index, source, reduce, "IndexReduceBackward0", include_self)


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """`input` with its slices at `index` along `dim` set to `value` (a number or 0-d tensor)."""
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError("index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s).")
    d = wrap_dim(dim, input.ndim)
    _check_index("index_fill_", index, d, input.shape[d] if input.ndim else 1)
    shape = tuple(index.numel() if i == d else s for i, s in enumerate(input.shape))
    grad_name = "IndexFillBackward1" if isinstance(value, Tensor) else "IndexFillBackward0"
    return scatter_along(input, d, _spread(index, d, shape), value, None, grad_name)


# -- advanced indexing, flat positions and masks -------------------------------------------------


def _index_put_fn(x, values, *indices, accumulate):
    at = x.at[tuple(index.astype(jnp.int64) for index in indices)]
    values = cast(values, x.dtype)
    if not accumulate:
        return at.set(values)
    return at.max(values) if x.dtype == jnp.bool_ else at.add(values)


_INDEX_PUT = Op("index_put", _index_put_fn)


def _positions(input: Tensor, indices) -> list:
    """The index tensors as operands, one per dim they index (a bool mask, read here, gives
    one known array per dim it covers), checked against the sizes."""
    operands, dim = [], 0
    for index in indices:
        values = np.asarray(index._host())
        if values.dtype == np.bool_:
            operands += [engine.source(jnp.asarray(found.astype(np.int64))) for found in np.nonzero(values)]
            dim += values.ndim
            continue
        size = input.shape[dim]
        bad = values[(values < -size) | (values >= size)]
        if bad.size:
            raise IndexError(f"index {int(bad.flat[0])} is out of bounds for dimension {dim} with size {size}")
        operands.append(index)
        dim += 1
    return operands


def index_put(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """`input` with `values` written (or, with `accumulate`, added) at `input[indices]`."""
    if values.dtype is not input.dtype:
        raise RuntimeError("Index put requires the source and destination dtypes match, got "
                           f"{input.dtype.scalar_name} for the destination and {values.dtype.scalar_name} for the source.")
    return record(_INDEX_PUT, (input, values, *_positions(input, indices)), input.shape, input.dtype.numpy,
                  "IndexPutBackward0", (("accumulate", bool(accumulate)),), differentiable=(True, True))


def _put_fn(x, index, source, *, accumulate):
    flat = _index_put_fn(x.reshape(-1), source.reshape(-1), index.reshape(-1), accumulate=accumulate)
    return flat.reshape(x.shape)


_PUT = Op("put", _put_fn)


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """`input` with `source` written (added, with `accumulate`) at the positions `index` of
    its flattened elements (negative ones counting from the end)."""
    if index.dtype is not dt.int64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {index.dtype.scalar_name}")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{input.dtype.scalar_name} and source.dtype = {source.dtype.scalar_name}")
    if source.numel() != index.numel():
        raise IndexError("put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source.numel()}, index.numel() = {index.numel()}")
    size = input.numel()
    values = np.asarray(index._host()).reshape(-1)
    bad = values[(values < -size) | (values >= size)]
    if bad.size:
        raise IndexError(f"out of range: tried to access index {int(bad[0])} on a tensor of {size} elements.")
    return record(_PUT, (input, index, source), input.shape, input.dtype.numpy, "PutBackward0",
                  (("accumulate", bool(accumulate)),), differentiable=(True, False, True))


def _masked_scatter_fn(x, mask, source, *, shape):
    """The elements of `source`, in order, at the places where `mask` is set."""
    x, mask = jnp.broadcast_to(x, shape).reshape(-1), jnp.broadcast_to(mask, shape).reshape(-1)
    if not source.size:
        return x.reshape(shape)
    taken = jnp.take(source.reshape(-1), jnp.clip(jnp.cumsum(mask) - 1, 0, source.size - 1))
    return jnp.where(mask, taken, x).reshape(shape)


_MASKED_SCATTER = Op("masked_scatter", _masked_scatter_fn)


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """`input` (broadcast with `mask`) with `source`'s elements, in order, where `mask` is set."""
    if mask.dtype is not dt.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype.cpp_name}")
    if source.dtype is not input.dtype:
        raise RuntimeError("masked_scatter: expected self and source to have same dtypes but got"
                           f"{input.dtype.scalar_name} and {source.dtype.scalar_name}")
    shape = broadcast_shapes(shape_of(input), shape_of(mask))
    if int(np.broadcast_to(np.asarray(mask._host()), shape).sum()) > source.numel():
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return record(_MASKED_SCATTER, (input, mask, source), shape, input.dtype.numpy, "MaskedScatterBackward0",
                  (("shape", shape),), differentiable=(True, False, True))


FUNCTIONS = {function.__name__: function for function in
             (index_add, index_copy, index_fill, index_reduce, index_put, put, masked_scatter)}
METHODS = {**FUNCTIONS, **{f"{name}_": in_place(function, f"{name}_", broadcast=False)
                           for name, function in FUNCTIONS.items()}}
