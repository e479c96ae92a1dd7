"""Where values fall among others: `searchsorted`, `bucketize` and `isin`, with PyTorch's
argument rules (int64 positions, or int32 with `out_int32`). None is differentiable.

    >>> import nablax.stateful as torch
    >>> torch.searchsorted(torch.tensor([1, 3, 5, 7]), torch.tensor([3, 6]))
    tensor([1, 3])
    >>> torch.isin(torch.tensor([1, 2, 3]), torch.tensor([2, 5]))
    tensor([False,  True, False])
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .. import dtypes as dt
from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from .common import SCALARS, cast


def _searchsorted_fn(sequence, values, *sorter, side, dtype, compute):
    sequence, values = cast(sequence, compute), cast(values, compute)
    if sorter:
        sequence = jnp.take_along_axis(sequence, sorter[0].astype(jnp.int64), axis=-1)
    if not values.size or not sequence.shape[-1]:  # nothing to search: every value goes first
        return jnp.zeros(values.shape, dtype)
    if sequence.ndim == 1:
        return jnp.searchsorted(sequence, values, side=side).astype(dtype)
    rows = sequence.reshape(-1, sequence.shape[-1])
    found = jax.vmap(lambda row, row_values: jnp.searchsorted(row, row_values, side=side))(
        rows, values.reshape(rows.shape[0], -1))
    return found.reshape(values.shape).astype(dtype)


_SEARCHSORTED = Op("searchsorted", _searchsorted_fn)


def _side(right: bool, side) -> str:
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        return side
    return "right" if right else "left"


def _check_shapes(sequence: Tensor, values, sorter) -> None:
    if not isinstance(values, Tensor):
        if sequence.ndim != 1:
            raise RuntimeError("torch.searchsorted(): input value can be a scalar only when boundaries tensor "
                               f"dimension is 1, but we got boundaries tensor dim({sequence.ndim}) and input value's "
                               "dim(0) numel(1)")
    elif sequence.ndim != 1 and sequence.shape[:-1] != values.shape[:-1]:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions "
                           "of boundaries tensor and input value tensor must match, but we got boundaries tensor "
                           f"{list(sequence.shape)} and input value tensor {list(values.shape)}")
    if sorter is not None and sorter.shape != sequence.shape:
        raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same size, but got boundary "
                           f"tensor {list(sequence.shape)}and got sorter tensor {list(sorter.shape)}")


def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False, right: bool = False, side=None,
                 sorter: Tensor | None = None) -> Tensor:
    """For each value of `input`, the position in `sorted_sequence` (its last dim) where it
    would go to keep it sorted: before equal values, or after them with `right`."""
    _check_shapes(sorted_sequence, input, sorter)
    compute = dt.result_type(sorted_sequence, input)
    result = np.dtype(np.int32 if out_int32 else np.int64)
    operands = (sorted_sequence, input) if sorter is None else (sorted_sequence, input, sorter)
    shape = tuple(input.shape) if isinstance(input, Tensor) else ()
    return record(_SEARCHSORTED, operands, shape, result, None,
                  (("side", _side(right, side)), ("dtype", result), ("compute", compute.numpy)), differentiable=False)


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """For each value of `input`, the index of its bucket among the sorted 1-D `boundaries`."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def _isin_fn(elements, tests, *, invert, dtype):
    found = jnp.isin(cast(elements, dtype), cast(tests, dtype).reshape(-1))
    return ~found if invert else found


_ISIN = Op("isin", _isin_fn)


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """Whether each element of `elements` is among `test_elements` (either may be a number)."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments - got (elements and test_elements "
                        "are both numbers)")
    for operand in (elements, test_elements):
        if not isinstance(operand, (Tensor, *SCALARS)):
            raise TypeError(f"isin(): argument 'elements' must be Tensor, not {type(operand).__name__}")
    compute = dt.result_type(elements, test_elements)
    shape = tuple(elements.shape) if isinstance(elements, Tensor) else ()
    return record(_ISIN, (elements, test_elements), shape, np.dtype(np.bool_), None,
                  (("invert", bool(invert)), ("dtype", compute.numpy)), differentiable=False)


FUNCTIONS = {function.__name__: function for function in (searchsorted, bucketize, isin)}
