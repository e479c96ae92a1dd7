"""The inverses of views: `select_scatter`, `slice_scatter` and `diagonal_scatter` give a
copy of the input with `src` written where `select`, slicing or `diagonal` would look,
with PyTorch's shape check. The gradient reaches both: `src` gets the viewed part.

    >>> import nablax.stateful as torch
    >>> torch.slice_scatter(torch.zeros(4), torch.ones(2), start=1, end=3)
    tensor([0., 1., 1., 0.])
    >>> torch.diagonal_scatter(torch.zeros(2, 2), torch.tensor([1.0, 2.0]))
    tensor([[1., 0.],
            [0., 2.]])
"""

from __future__ import annotations

import jax.numpy as jnp

from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from ..views import wrap_dim
from .common import cast


def _check_size(src: Tensor, viewed: tuple) -> None:
    if tuple(src.shape) != tuple(viewed):
        raise RuntimeError("expected src to have a size equal to the slice of self. src size = "
                           f"[{', '.join(map(str, src.shape))}], slice size = [{', '.join(map(str, viewed))}]")


def _write_at(x, src, *, dim, bounds):
    """`src` written at `bounds` along `dim`: (start, stop, step), or one position."""
    where = slice(*bounds) if isinstance(bounds, tuple) else bounds
    return x.at[(slice(None),) * dim + (where,)].set(cast(src, x.dtype))


_WRITE_AT = Op("view_scatter", _write_at)


def _recorded(input: Tensor, src: Tensor, dim: int, bounds, grad_name: str) -> Tensor:
    return record(_WRITE_AT, (input, src), input.shape, input.dtype.numpy, grad_name, (("dim", dim), ("bounds", bounds)))


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """`input` with `src` written at `input.select(dim, index)`."""
    d = wrap_dim(dim, input.ndim)
    size = input.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"[{', '.join(map(str, input.shape))}] at dimension {d}")
    _check_size(src, input.shape[:d] + input.shape[d + 1:])
    return _recorded(input, src, d, index % size, "SelectScatterBackward0")


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start=None, end=None, step: int = 1) -> Tensor:
    """`input` with `src` written at `input[start:end:step]` along `dim`."""
    d = wrap_dim(dim, input.ndim)
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    bounds = slice(start, end, step).indices(input.shape[d]) if input.ndim else (0, 1, 1)
    count = len(range(*bounds))
    _check_size(src, tuple(count if i == d else s for i, s in enumerate(input.shape)))
    return _recorded(input, src, d, bounds, "SliceScatterBackward0")


def _diagonal_write(x, src, *, offset, dim1, dim2):
    moved = jnp.moveaxis(x, (dim1, dim2), (-2, -1))
    count = src.shape[-1]
    rows = jnp.arange(count) + max(-offset, 0)
    columns = jnp.arange(count) + max(offset, 0)
    written = moved.at[..., rows, columns].set(cast(src, x.dtype))
    return jnp.moveaxis(written, (-2, -1), (dim1, dim2))


_DIAGONAL_WRITE = Op("diagonal_scatter", _diagonal_write)


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """`input` with `src` written on the diagonal that `input.diagonal(offset, dim1, dim2)` views."""
    d1, d2 = wrap_dim(dim1, input.ndim), wrap_dim(dim2, input.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rows, columns = input.shape[d1], input.shape[d2]
    count = max(min(rows + min(offset, 0), columns - max(offset, 0)), 0)
    rest = tuple(s for i, s in enumerate(input.shape) if i not in (d1, d2))
    _check_size(src, rest + (count,))
    return record(_DIAGONAL_WRITE, (input, src), input.shape, input.dtype.numpy, "DiagonalScatterBackward0",
                  (("offset", offset), ("dim1", d1), ("dim2", d2)))


FUNCTIONS = {function.__name__: function for function in (select_scatter, slice_scatter, diagonal_scatter)}
