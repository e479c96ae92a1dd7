"""Reads and writes at positions that tensors give: `gather`, `scatter`, `scatter_add` and
`index_select` along a dim, `masked_fill` where a bool mask is set, and their in-place
forms, with PyTorch's checks. An index out of bounds is an error, as in PyTorch: the index
values are read (their computation runs) when the op is recorded."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp

from .. import dtypes as dt
from ..engine import Op
from ..grad_fn import NOT_DIFFERENTIABLE
from ..recording import record
from ..tensor import Tensor
from ..views import wrap_dim
from .common import SCALARS, broadcast_shapes, cast, shape_of
from .inplace_forms import in_place

_INDEX_DTYPES = (dt.int64, dt.int32)


def _listed(shape) -> str:
    return f"[{', '.join(map(str, shape))}]"


def _check_index_type(index, name: str) -> None:
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' (position 3) must be Tensor, not {type(index).__name__}")
    if index.dtype not in _INDEX_DTYPES:
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")


def check_bounds(index: Tensor, dim: int, size: int) -> None:
    """PyTorch's check of the index values (read here) against the size along `dim`."""
    if index.numel():
        values = index._host()
        bad = values[(values < 0) | (values >= size)]
        if bad.size:
            raise RuntimeError(f"index {int(bad.flat[0])} is out of bounds for dimension {dim} with size {size}")


def _along_dims(x, index, dim):
    """`x` cut to `index`'s shape in every dim but `dim`, and the positions that `index`
    (along `dim`) and its own place (along the others) name in it."""
    cut = x[tuple(slice(None) if d == dim else slice(0, size) for d, size in enumerate(index.shape))]
    places = tuple(index if d == dim else jnp.arange(size).reshape([-1 if i == d else 1 for i in range(index.ndim)])
                   for d, size in enumerate(index.shape))
    return cut, places


def _one_dim(fn, *, writes: bool):
    """`fn(x, index, *rest, dim=...)` where 0-d operands (dim None) act as one element; the
    result has the shape of `x` (an op that `writes` into it) or of `index`."""
    def apply(x, index, *rest, dim, **static):
        if dim is None:
            rest = tuple(jnp.reshape(r, (1,)) if jnp.ndim(r) == 0 else r for r in rest)
            result = fn(x.reshape(1), index.reshape(1), *rest, dim=0, **static)
            return result.reshape(x.shape if writes else index.shape)
        return fn(x, index, *rest, dim=dim, **static)

    return apply


def _gather_fn(x, index, *, dim):
    cut, _ = _along_dims(x, index, dim)
    return jnp.take_along_axis(cut, index.astype(jnp.int64), axis=dim)


def _scatter_fn(x, index, src, *, dim, reduce, include_self=True):
    """`x` with `src` written (`reduce` None) or reduced in at `index` along `dim`; without
    `include_self`, `x`'s own values at the positions written take no part."""
    _, places = _along_dims(x, index.astype(jnp.int64), dim)
    if jnp.ndim(src):
        src = src[tuple(slice(0, size) for size in index.shape)]
    src = jnp.broadcast_to(cast(src, x.dtype), index.shape)
    reduce = _BOOL_REDUCTIONS.get(reduce, reduce) if x.dtype == jnp.bool_ else reduce
    if reduce in ("prod", "multiply"):
        base = x if include_self else x.at[places].set(jnp.ones((), x.dtype))
        return base * scatter_products(x.shape, index.astype(jnp.int64), src, dim)
    if reduce is None:
        return x.at[places].set(src)
    if reduce in ("amax", "amin"):
        base = x if include_self else x.at[places].set(_identity(reduce, x.dtype))
        return base.at[places].max(src) if reduce == "amax" else base.at[places].min(src)
    total = (x if include_self else x.at[places].set(jnp.zeros((), x.dtype))).at[places].add(src)
    if reduce != "mean":
        return total
    count = (jnp.ones(x.shape, jnp.int64) if include_self else jnp.zeros(x.shape, jnp.int64)).at[places].add(1)
    count = jnp.maximum(count, 1)
    return total / count.astype(x.dtype) if jnp.issubdtype(x.dtype, jnp.inexact) else jnp.floor_divide(total, count)


# Of bools, a sum is a logical or and a product a logical and, as in PyTorch.
_BOOL_REDUCTIONS = {"add": "amax", "sum": "amax", "multiply": "amin", "prod": "amin"}


def _identity(reduce: str, dtype):
    """The value that `amax`/`amin` never keep over another."""
    if jnp.issubdtype(dtype, jnp.inexact):
        return jnp.asarray(-jnp.inf if reduce == "amax" else jnp.inf, dtype)
    info = jnp.iinfo(dtype) if dtype != jnp.bool_ else None
    if info is None:
        return jnp.asarray(reduce == "amin")
    return jnp.asarray(info.min if reduce == "amax" else info.max, dtype)


def scatter_products(shape: tuple, index, src, dim: int):
    """The product of the values of `src` sent to each position along `dim` (1 where none
    is), of `shape`. A product over runs of the values sorted by destination, so that JAX
    differentiates it (also where a value is zero), which it does not for a scatter-multiply."""
    index_last, src_last = jnp.moveaxis(index, dim, -1), jnp.moveaxis(src, dim, -1)
    order = jnp.argsort(index_last, axis=-1, stable=True)
    targets = jnp.take_along_axis(index_last, order, axis=-1)
    values = jnp.take_along_axis(src_last, order, axis=-1)
    starts = jnp.concatenate([jnp.ones(targets.shape[:-1] + (1,), bool), targets[..., 1:] != targets[..., :-1]], -1)

    def combine(earlier, later):
        return jnp.where(later[1], later[0], earlier[0] * later[0]), earlier[1] | later[1]

    runs = jax.lax.associative_scan(combine, (values, starts), axis=values.ndim - 1)[0]
    ends = jnp.concatenate([starts[..., 1:], jnp.ones(starts.shape[:-1] + (1,), bool)], -1)
    size = shape[dim]
    places = tuple(jnp.arange(n).reshape([-1 if i == d else 1 for i in range(targets.ndim)])
                   for d, n in enumerate(targets.shape[:-1]))
    products = jnp.ones(targets.shape[:-1] + (size,), src.dtype).at[
        (*places, jnp.where(ends, targets, size))].set(runs, mode="drop")
    products = jnp.moveaxis(products, -1, dim)
    return jnp.pad(products, [(0, full - part) for full, part in zip(shape, products.shape)], constant_values=1)


_GATHER = Op("gather", _one_dim(_gather_fn, writes=False))
_SCATTER = Op("scatter", _one_dim(_scatter_fn, writes=True))


def _check_sizes(input: Tensor, index: Tensor, dim: int, src=None) -> None:
    """The index must fit in the input (and a source tensor) in every dim but `dim`."""
    tensors = (input, index) if src is None else (input, index, src)
    for other, role in zip(tensors[::2], ("self", "src")):
        if max(index.ndim, 1) != max(other.ndim, 1):
            raise RuntimeError(f"Index tensor must have the same number of dimensions as {role} tensor")
    too_large = any(index.shape[d] > input.shape[d] for d in range(index.ndim) if d != dim)
    if src is not None and not too_large:
        too_large = any(i > s for i, s in zip(index.shape, src.shape))
    if too_large:
        message = f"Expected index {_listed(index.shape)} to be no larger than self {_listed(input.shape)} apart from dimension {dim}"
        raise RuntimeError(message + ("" if src is None else f" and to be no larger size than src {_listed(src.shape)}"))


_NOTHING = Op("gather_nothing", lambda x, *, shape: jnp.zeros(shape, x.dtype))


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """`out[i][j] = input[index[i][j]][j]` (dim 0), and so on: the values at `index` along `dim`."""
    d = wrap_dim(dim, input.ndim)
    if isinstance(index, Tensor) and index.numel() == 0:  # PyTorch checks nothing of an empty index
        return record(_NOTHING, (input,), index.shape, input.dtype.numpy, "GatherBackward0", (("shape", index.shape),))
    _check_index_type(index, "gather")
    if max(index.ndim, 1) != max(input.ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for axis in range(input.ndim):
        if axis != d and index.shape[axis] > input.shape[axis]:
            raise RuntimeError(f"Size does not match at dimension {axis} expected index {_listed(index.shape)} to be no "
                               f"larger than self {_listed(input.shape)} apart from dimension {d}")
    check_bounds(index, d, input.shape[d] if input.ndim else 1)
    return record(_GATHER, (input, index), index.shape, input.dtype.numpy, "GatherBackward0",
                  (("dim", d if input.ndim else None),), differentiable=(True, False))


def _scatter(input: Tensor, dim: int, index: Tensor, src, reduce, name: str, grad_name: str) -> Tensor:
    d = wrap_dim(dim, input.ndim)
    _check_index_type(index, name)
    if isinstance(src, Tensor) and src.dtype is not input.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    _check_sizes(input, index, d, src if isinstance(src, Tensor) else None)
    check_bounds(index, d, input.shape[d] if input.ndim else 1)
    return record(_SCATTER, (input, index, src), input.shape, input.dtype.numpy, grad_name,
                  (("dim", d if input.ndim else None), ("reduce", reduce)), differentiable=(True, False, True))


_REDUCTIONS = {None: None, "add": "add", "multiply": "multiply"}


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce=None) -> Tensor:
    """`input` with `src` (a tensor, or the number `value`) written at `index` along `dim`
    (added or multiplied in, with the deprecated `reduce`)."""
    src = value if src is None else src
    if not isinstance(src, (Tensor, *SCALARS)):
        raise TypeError(f"scatter(): argument 'src' (position 4) must be Tensor, not {type(src).__name__}")
    if reduce not in _REDUCTIONS:
        raise RuntimeError("reduce argument must be either add or multiply.")
    grad_name = "ScatterBackward0" if isinstance(src, Tensor) else "ScatterBackward1"
    if reduce is not None:
        grad_name = NOT_DIFFERENTIABLE  # PyTorch has no derivative for a reduction
        if isinstance(src, Tensor):
            warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated and will be removed in a "
                          "future PyTorch release. Use torch.scatter_reduce instead for more reduction options.",
                          UserWarning, stacklevel=2)
    return _scatter(input, dim, index, src, reduce, "scatter", grad_name)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """`input` with `src` added in at `index` along `dim` (repeated positions add up)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' (position 4) must be Tensor, not {type(src).__name__}")
    return _scatter(input, dim, index, src, "add", "scatter_add", "ScatterAddBackward0")


def scatter_along(input: Tensor, d: int, index: Tensor, src, reduce, grad_name: str, include_self: bool = True):
    """Records the scatter of `src` at `index` (of `src`'s shape) along `d`, unchecked."""
    return record(_SCATTER, (input, index, src), input.shape, input.dtype.numpy, grad_name,
                  (("dim", d if input.ndim else None), ("reduce", reduce), ("include_self", bool(include_self))),
                  differentiable=(True, False, True))


_SCATTER_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """`input` with the values of `src` at `index` along `dim` reduced into it ('sum',
    'prod', 'mean', 'amax' or 'amin'); without `include_self`, the written positions'
    own values take no part."""
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # PyTorch's older names, still taken
    if reduce not in _SCATTER_REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): argument 'src' (position 4) must be Tensor, not {type(src).__name__}")
    d = wrap_dim(dim, input.ndim)
    _check_index_type(index, "scatter_reduce")
    if src.dtype is not input.dtype:
        raise RuntimeError("scatter_reduce(): Expected self.dtype to be equal to src.dtype")
    _check_sizes(input, index, d, src)
    check_bounds(index, d, input.shape[d] if input.ndim else 1)
    return scatter_along(input, d, index, src, reduce, "ScatterReduceBackward0", include_self)


_TAKE = Op("index_select", lambda x, index, *, dim, shape: jnp.take(x, index.reshape(-1).astype(jnp.int64), axis=dim)
           .reshape(shape))


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of `input` at the positions `index` (a vector) along `dim`."""
    d = wrap_dim(dim, input.ndim)
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index.dtype not in _INDEX_DTYPES:
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    size = input.shape[d] if input.ndim else 1
    values = index._host().reshape(-1)
    bad = values[(values < 0) | (values >= size)]
    if bad.size:  # PyTorch's kernels word this apart along the first dim and the others
        if d == 0:
            raise IndexError("index out of range in self")
        raise RuntimeError(f"INDICES element is out of DATA bounds, id={int(bad[0])} axis_dim={size}")
    source = input if input.ndim else input.reshape(1)
    shape = source.shape[:d] + (values.size,) + source.shape[d + 1:] if input.ndim else ()
    return record(_TAKE, (source, index), shape, input.dtype.numpy, "IndexSelectBackward0", (("dim", d), ("shape", shape)),
                  differentiable=(True, False))


_MASKED_FILL = Op("masked_fill", lambda x, mask, value: jnp.where(mask, cast(value, x.dtype), x))


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """`input` with `value` (a number or a 0-d tensor) where `mask` (bool, broadcast) is set."""
    if mask.dtype is not dt.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {mask.dtype.cpp_name}")
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s).")
    shape = broadcast_shapes(shape_of(mask), input.shape)  # (PyTorch's error names the mask first)
    grad_name = "MaskedFillBackward1" if isinstance(value, Tensor) else "MaskedFillBackward0"
    return record(_MASKED_FILL, (input, mask, value), shape, input.dtype.numpy, grad_name,
                  differentiable=(True, False, True))


FUNCTIONS = {function.__name__: function for function in
             (gather, scatter, scatter_add, scatter_reduce, index_select, masked_fill)}
METHODS = {**FUNCTIONS, "scatter_": in_place(scatter, "scatter_", broadcast=False),
           "scatter_add_": in_place(scatter_add, "scatter_add_", broadcast=False),
           "scatter_reduce_": in_place(scatter_reduce, "scatter_reduce_", broadcast=False),
           "masked_fill_": in_place(masked_fill, "masked_fill_")}
