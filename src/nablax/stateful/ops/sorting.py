"""Ordering along a dim: `sort`, `argsort`, `msort`, `topk` and `kthvalue`, with PyTorch's
return types (`torch.return_types.sort(values=..., indices=...)`), its placing of nan (the
largest value) and its errors.

Values and indices are separate nodes over one stable argsort (XLA computes it once): the
values take the input at the indices, so their gradient goes back to those elements, as
PyTorch's `SortBackward0` sends it."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .. import dtypes as dt
from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from ..views import wrap_dim
from .common import numpy_keywords
from .reductions import return_type


def _order(x, *, dim, descending, start, stop, keepdim=True):
    """Positions of the elements ranked `start` to `stop` (exclusive) along `dim` (None for
    a 0-d `x`), smallest first or (`descending`) largest first, ties in input order."""
    if dim is None:
        return jnp.zeros((), jnp.int64)
    ranked = jnp.argsort(x, axis=dim, stable=True, descending=descending).astype(jnp.int64)
    positions = jnp.take(ranked, jnp.arange(start, stop), axis=dim)
    return positions if keepdim else jnp.squeeze(positions, dim)


def _ordered_values(x, **order):
    if order["dim"] is None:
        return x
    keepdim = order.pop("keepdim", True)
    values = jnp.take_along_axis(x, _order(x, **order), axis=order["dim"])
    return values if keepdim else jnp.squeeze(values, order["dim"])


_INDICES = Op("order_indices", _order)
_VALUES = Op("order_values", _ordered_values)


def _values_and_indices(x: Tensor, name: str, grad_name: str, dim: int, shape: tuple, **order):
    """`torch.return_types.<name>(values, indices)` of the elements `_order` picks."""
    static = (("dim", dim if x.ndim else None), *sorted(order.items()))
    values = record(_VALUES, (x,), shape, x.dtype.numpy, grad_name, static)
    indices = record(_INDICES, (x,), shape, np.dtype(np.int64), None, static, differentiable=False)
    return return_type(name)((values, indices))


@numpy_keywords
def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool | None = None):
    """Sorted along `dim` (ascending unless `descending`), with the positions it took; the
    sort is always stable, which `stable=False` allows. (Given `stable`, PyTorch runs
    another overload, whose node is `SortBackward1`.)"""
    d = wrap_dim(dim, input.ndim)
    size = input.shape[d] if input.ndim else 1
    return _values_and_indices(input, "sort", "SortBackward0" if stable is None else "SortBackward1", d, input.shape,
                               descending=bool(descending), start=0, stop=size)


@numpy_keywords
def argsort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False):
    return sort(input, dim, descending, stable=stable).indices


def msort(input: Tensor):
    return sort(input, 0).values


@numpy_keywords
def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The `k` largest (or smallest) along `dim`, largest first (also when `sorted=False`,
    where PyTorch leaves the order unspecified); among ties, the first ones in the input
    (PyTorch may pick others)."""
    d = wrap_dim(dim, input.ndim)
    size = input.shape[d] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    if input.dtype is dt.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    shape = input.shape[:d] + (k,) + input.shape[d + 1:] if input.ndim else ()
    return _values_and_indices(input, "topk", "TopkBackward0", d, shape, descending=bool(largest), start=0, stop=k)


@numpy_keywords
def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """The `k`-th smallest along `dim` and its position."""
    d = wrap_dim(dim, input.ndim)
    size = input.shape[d] if input.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    shape = tuple(1 if i == d else s for i, s in enumerate(input.shape)) if keepdim else \
        input.shape[:d] + input.shape[d + 1:]
    return _values_and_indices(input, "kthvalue", "KthvalueBackward0", d, shape, descending=False, start=k - 1,
                               stop=k, keepdim=bool(keepdim))


FUNCTIONS = {function.__name__: function for function in (sort, argsort, msort, topk, kthvalue)}
