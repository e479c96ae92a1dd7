"""Ops whose result's shape depends on the input's values: `nonzero` (`argwhere`,
one-argument `where`), `masked_select`, `bincount` and `unique`.

The engine records shapes when an op is recorded, so these read the values they depend on
then (as advanced indexing reads its index arrays), and record what follows from them as
known values: positions are computed on the host, and a result that PyTorch
differentiates is a gather at those positions, so that gradients flow as PyTorch's do."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .. import dtypes as dt
from .. import engine
from ..engine import Op
from ..grad_fn import NOT_DIFFERENTIABLE
from ..recording import record
from ..tensor import Tensor
from ..views import wrap_dim
from . import arithmetic as A
from .common import broadcast_shapes


def _known(array: np.ndarray) -> Tensor:
    """A tensor holding `array`, computed here."""
    return Tensor._from_expr(engine.source(engine.on_device(array)))


def nonzero(input: Tensor, *, as_tuple: bool = False):
    """The positions of the nonzero elements: one row each, or (`as_tuple`) one vector per
    dim (a 0-d input counts as a vector of one element there)."""
    values = np.asarray(input._host())
    if as_tuple:
        return tuple(_known(positions) for positions in np.nonzero(np.atleast_1d(values)))
    return _known(np.argwhere(values).astype(np.int64))


def argwhere(input: Tensor) -> Tensor:
    return nonzero(input)


_WHERE_FORMS = (
    "where() received an invalid combination of arguments - got ({}), but expected one of:\n"
    " * (Tensor condition)\n * (Tensor condition, Tensor input, Tensor other, *, Tensor out = None)\n"
    " * (Tensor condition, Number self, Tensor other)\n * (Tensor condition, Tensor input, Number other)\n"
    " * (Tensor condition, Number self, Number other)\n")


def where(condition: Tensor, input=None, other=None):
    """`input` where `condition` is set, else `other`; with the condition alone, the
    positions where it is set (`nonzero(condition, as_tuple=True)`)."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if input is None or other is None:
        given = ", ".join(type(value).__name__ for value in (condition, input, other) if value is not None)
        raise TypeError(_WHERE_FORMS.format(given))
    return A.where(condition, input, other)


_SELECT = Op("masked_select", lambda x, positions, *, shape: jnp.broadcast_to(x, shape).reshape(-1)[positions])


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of `input` where `mask` is set (both broadcast), as a vector."""
    if mask.dtype is not dt.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = broadcast_shapes(mask.shape, input.shape)  # (PyTorch's error names the mask first)
    positions = np.flatnonzero(np.broadcast_to(np.asarray(mask._host()), shape))
    return record(_SELECT, (input, engine.source(engine.on_device(positions))), (positions.size,), input.dtype.numpy,
                  "MaskedSelectBackward0", (("shape", shape),), differentiable=(True, False))


_BINCOUNT = Op("bincount", lambda x, *weights, length, dtype: jnp.bincount(
    x, weights[0].astype(dtype) if weights else None, length=length).astype(dtype))


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ... occurs in `input` (non-negative integers), or the sum
    of the `weights` at its occurrences; at least `minlength` counts."""
    if input.dtype.is_floating_point or input.dtype is dt.bool_:
        raise NotImplementedError(f'"bincount_cpu" not implemented for \'{input.dtype.scalar_name}\'')
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    values = np.asarray(input._host())
    if values.ndim != 1 or (values.size and values.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights.ndim != 1 or weights.shape[0] != values.size):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    length = max(int(values.max()) + 1 if values.size else 0, int(minlength))
    if weights is None:
        return record(_BINCOUNT, (input,), (length,), np.dtype(np.int64), None,
                      (("length", length), ("dtype", np.dtype(np.int64))))
    result = weights.dtype if weights.dtype is dt.float32 else dt.float64
    return record(_BINCOUNT, (input, weights), (length,), result.numpy, NOT_DIFFERENTIABLE,
                  (("length", length), ("dtype", result.numpy)), differentiable=(False, True))


_TAKE = Op("unique_values", lambda x, positions, *, dim: jnp.take(x, positions, axis=dim))


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,  # noqa: A002
           dim: int | None = None):
    """The distinct values (or, along `dim`, slices) in ascending order, with (if asked)
    where each element went (`inverse`) and how often each occurs (`counts`). The values
    come sorted whatever `sorted` says, as from PyTorch on the CPU."""
    values = np.asarray(input._host())
    if dim is None:
        _, first, inverse, counts = np.unique(values.reshape(-1), return_index=True, return_inverse=True,
                                              return_counts=True, equal_nan=False)
        source, axis, grad_name, inverse = input.reshape(-1), 0, "Unique2Backward0", inverse.reshape(values.shape)
    else:
        axis = wrap_dim(dim, input.ndim)
        _, first, inverse, counts = np.unique(values, return_index=True, return_inverse=True, return_counts=True,
                                              axis=axis)
        source, grad_name = input, "UniqueDimBackward0"
    shape = tuple(first.size if d == axis else s for d, s in enumerate(source.shape))
    # The distinct values are the input's at their first occurrences: a node PyTorch names
    # but does not differentiate (a backward pass through it raises PyTorch's error).
    result = record(_TAKE, (source, engine.source(engine.on_device(first.astype(np.int64)))), shape, input.dtype.numpy,
                    grad_name, (("dim", axis),), differentiable=(True, False))
    extras = [_known(inverse.astype(np.int64))] if return_inverse else []
    extras += [_known(counts.astype(np.int64))] if return_counts else []
    return (result, *extras) if extras else result


def _runs(values: np.ndarray, axis: int | None) -> np.ndarray:
    """Where a run of equal elements (along `axis`: of equal slices) starts, one flag each."""
    moved = values.reshape(-1) if axis is None else np.moveaxis(values, axis, 0)
    rows = moved.reshape(moved.shape[0], int(np.prod(moved.shape[1:])))
    starts = np.ones(rows.shape[0], bool)
    starts[1:] = np.any(rows[1:] != rows[:-1], axis=1)
    return starts


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None):
    """The first element (or, along `dim`, slice) of each run of equal ones, with (if asked)
    the run each element belongs to (`inverse`) and each run's length (`counts`)."""
    values = np.asarray(input._host())
    axis = None if dim is None else wrap_dim(dim, input.ndim)
    starts = _runs(values, axis)
    first = np.flatnonzero(starts).astype(np.int64)
    inverse = (np.cumsum(starts) - 1).astype(np.int64)
    counts = np.diff(np.append(first, starts.size)).astype(np.int64)
    source = input.reshape(-1) if axis is None else input
    shape = (first.size,) if axis is None else tuple(first.size if d == axis else s for d, s in enumerate(input.shape))
    result = record(_TAKE, (source, engine.source(jnp.asarray(first))), shape, input.dtype.numpy,
                    "UniqueConsecutiveBackward0", (("dim", axis or 0),), differentiable=(True, False))
    extras = [_known(inverse.reshape(values.shape) if axis is None else inverse)] if return_inverse else []
    extras += [_known(counts)] if return_counts else []
    return (result, *extras) if extras else result


FUNCTIONS = {function.__name__: function for function in
             (nonzero, argwhere, where, masked_select, bincount, unique, unique_consecutive)}
METHODS = {function.__name__: function for function in
           (nonzero, argwhere, masked_select, bincount, unique, unique_consecutive)}
