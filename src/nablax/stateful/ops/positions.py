"""Ops about positions: reads at flat or per-dim positions (`take`, `take_along_dim`),
positions made (`tril_indices`, `triu_indices`, `unravel_index`), their products
(`cartesian_prod`, `combinations`), and the half-length rolls of `fft.fftshift` and
`fft.ifftshift`, with PyTorch's checks.

    >>> import nablax.stateful as torch
    >>> torch.take(torch.tensor([[1, 2], [3, 4]]), torch.tensor([0, 3])).tolist()
    [1, 4]
    >>> torch.tril_indices(2, 2).tolist()
    [[0, 1, 1], [0, 0, 1]]
"""

from __future__ import annotations

import itertools

import jax.numpy as jnp
import numpy as np

from .. import dtypes as dt
from ..engine import Op
from ..layouts import check_layout
from ..recording import record
from ..tensor import Tensor
from ..views import wrap_dim
from . import arithmetic as A
from . import copies, creation, gathering, rearranging
from . import shape as S
from .common import broadcast_shapes, not_implemented

_TAKE = Op("take", lambda x, index: jnp.take(x.reshape(-1), jnp.where(index < 0, index + x.size, index)), saves=False)


def take(input: Tensor, index: Tensor) -> Tensor:
    """The elements of `input` (as if flattened) at `index` (negative from the end), in
    `index`'s shape."""
    if index.dtype is not dt.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {index.dtype.scalar_name}")
    if index.numel():
        if not input.numel():
            raise IndexError("take(): tried to take from an empty tensor")
        values = index._host()
        bad = values[(values < -input.numel()) | (values >= input.numel())]
        if bad.size:
            raise IndexError(f"out of range: tried to access index {int(bad.flat[0])} on a tensor of {input.numel()} elements.")
    return record(_TAKE, (input, index), index.shape, input.dtype.numpy, "TakeBackward0", differentiable=(True, False))


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """The values at `indices` along `dim` (`gather`, with `input` and `indices` broadcast in
    the other dims, each index taken modulo the size as PyTorch does); without `dim`, along
    the flattened tensor."""
    if indices.dtype is not dt.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got {indices.dtype.scalar_name}")
    if dim is None:
        input, indices, dim = S.reshape(input, -1), S.reshape(indices, -1), 0
    if input.ndim != indices.ndim:
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same number of dimensions, but "
                           f"got {input.ndim} dimensions for input, and {indices.ndim} dimensions for indices")
    d = wrap_dim(dim, input.ndim)
    others = [tuple(1 if i == d else s for i, s in enumerate(t.shape)) for t in (input, indices)]
    shape = list(broadcast_shapes(*others))
    shape[d] = input.shape[d]
    input = S.expand(input, tuple(shape))
    shape[d] = indices.shape[d]
    if input.shape[d]:  # PyTorch takes every index modulo the size (negative ones from the end)
        indices = A.remainder(indices, input.shape[d])
    return gathering.gather(input, d, S.expand(indices, tuple(shape)))


def _triangle_indices(name: str, positions):
    def triangle_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None,
                         requires_grad=False) -> Tensor:
        check_layout(layout, name)
        dtype = dt.as_dtype(dtype) if dtype is not None else dt.int64
        if dtype not in (dt.int64, dt.int32):
            raise not_implemented(name, dtype)
        if row < 0 or col < 0:
            raise RuntimeError(f"{'row' if row < 0 else 'col'} must be non-negative, got{row if row < 0 else col}")
        rows, columns = positions(row, offset, col)
        return creation.tensor(np.stack([rows, columns]).reshape(2, -1), dtype=dtype, device=device)

    triangle_indices.__name__ = triangle_indices.__qualname__ = name
    triangle_indices.__doc__ = (f"The (row, column) positions, as the two rows of a 2xN tensor in row-major order, of the "
                                f"{'lower' if name == 'tril_indices' else 'upper'} triangle of a `row` x `col` matrix "
                                "from the `offset` diagonal on.")
    return triangle_indices


tril_indices = _triangle_indices("tril_indices", np.tril_indices)
triu_indices = _triangle_indices("triu_indices", np.triu_indices)


def unravel_index(indices: Tensor, shape) -> tuple:
    """The per-dim coordinates in a tensor of `shape` of the flat `indices` (one tensor per
    dim). As in PyTorch, an index past either end wraps around (floor division)."""
    if not isinstance(indices, Tensor) or indices.dtype.is_floating_point or indices.dtype.is_complex:
        kind = indices.dtype if isinstance(indices, Tensor) else type(indices).__name__
        raise TypeError(f"expected 'indices' to be integer dtype, but got {kind}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    coordinates = []
    remaining = copies.to_dtype(indices, dt.int64)
    for size in reversed(shape):
        coordinates.append(A.remainder(remaining, size))
        remaining = A.floor_divide(remaining, size)
    return tuple(reversed(coordinates))


def cartesian_prod(*tensors) -> Tensor:
    """Every tuple of one element of each vector, as the rows of a matrix (one vector: itself)."""
    for tensor in tensors:
        if tensor.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape [{', '.join(map(str, tensor.shape))}]")
    if len(tensors) == 1:
        return tensors[0]
    grids = rearranging.meshgrid(*tensors, indexing="ij")
    return copies.stack([S.reshape(grid, -1) for grid in grids], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The combinations of `r` elements of a vector (with repeats where `with_replacement`),
    as the rows of a matrix, in `itertools`' order."""
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape [{', '.join(map(str, input.shape))}]")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return creation.full((0,), 0, dtype=input.dtype)
    choose = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    positions = np.array(list(choose(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return input[creation.tensor(positions)]


def _shift(sign: int):
    def shift(input: Tensor, dim=None) -> Tensor:
        dims = tuple(range(input.ndim)) if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
        if not dims:
            return input
        shifts = tuple(sign * (input.shape[wrap_dim(d, input.ndim)] // 2) for d in dims)
        return rearranging.roll(input, shifts, dims)

    return shift


fftshift, ifftshift = _shift(1), _shift(-1)
fftshift.__name__ = fftshift.__qualname__ = "fftshift"
fftshift.__doc__ = "The zero-frequency term moved to the centre: a roll by half of each of `dim` (all by default)."
ifftshift.__name__ = ifftshift.__qualname__ = "ifftshift"
ifftshift.__doc__ = "The inverse of `fftshift`: a roll back by half of each of `dim`."

FUNCTIONS = {function.__name__: function for function in (take, take_along_dim, tril_indices, triu_indices, unravel_index,
                                                           cartesian_prod, combinations)}
METHODS = {"take": take, "take_along_dim": take_along_dim}
