"""More ways to cut a tensor into views and to join tensors: `tensor_split`, `hsplit`,
`vsplit`, `dsplit`, `split_with_sizes`, `unsafe_split`, `unsafe_chunk`, `unbind`,
`column_stack` and `dstack`, built on `split`, `select` and `cat`.

    >>> import nablax.stateful as torch
    >>> [piece.tolist() for piece in torch.tensor_split(torch.arange(5), 3)]
    [[0, 1], [2, 3], [4]]
"""

from __future__ import annotations

from .. import dtypes as dt
from ..tensor import Tensor
from .. import views
from ..views import wrap_dim
from . import copies, dims, splitting


def _pieces(input: Tensor, d: int, bounds) -> tuple:
    """The views between consecutive `bounds` along `d` (clamped to the dim, never backwards)."""
    length = input.shape[d]
    pieces, start = [], 0
    for bound in list(bounds) + [length]:
        stop = max(min(bound, length), start)
        pieces.append(input[splitting.along_dim(d, slice(start, stop))])
        start = stop
    return tuple(pieces)


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Views along `dim`: `n` near-equal sections (the first ones one longer), or the pieces
    between the listed indices (a list, or a 1-D int64 tensor; a 0-d one is a count)."""
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = wrap_dim(dim, input.ndim)
    if isinstance(indices_or_sections, Tensor):
        if indices_or_sections.dtype is not dt.int64:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                               f"{indices_or_sections.dtype.scalar_name}")
        if indices_or_sections.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {indices_or_sections.ndim} dims")
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        size, longer = divmod(input.shape[d], sections)
        bounds = [(i + 1) * size + min(i + 1, longer) for i in range(sections - 1)]
        return _pieces(input, d, bounds)
    return _pieces(input, d, [int(i) for i in indices_or_sections])


def _directional(name: str, dim_of, least: int):
    def directional_split(input: Tensor, indices_or_sections) -> tuple:
        if input.ndim < least:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {least} dimension, but got a tensor with "
                               f"{input.ndim} dimensions!")
        d = dim_of(input)
        if isinstance(indices_or_sections, int):
            sections = indices_or_sections
            if sections == 0 or input.shape[d] % sections:
                raise RuntimeError(f"torch.{name} attempted to split along dimension {d}, but the size of the dimension "
                                   f"{input.shape[d]} is not divisible by the split_size {sections}!")
        return tensor_split(input, indices_or_sections, d)

    directional_split.__name__ = directional_split.__qualname__ = name
    directional_split.__doc__ = f"`tensor_split` along dim {dim_of.__doc__}, equal sections only when given a count."
    return directional_split


def _columns(input: Tensor) -> int:
    """1 (0 for a vector)"""
    return 1 if input.ndim >= 2 else 0


def _rows(input: Tensor) -> int:
    """0"""
    return 0


def _depth(input: Tensor) -> int:
    """2"""
    return 2


hsplit, vsplit, dsplit = _directional("hsplit", _columns, 1), _directional("vsplit", _rows, 2), _directional("dsplit", _depth, 3)


def split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """Views of the listed sizes along `dim`."""
    return splitting.split(input, list(split_sizes), dim)


def unsafe_split(input: Tensor, split_size, dim: int = 0) -> tuple:
    """`split` (PyTorch's form that skips autograd's view checks; the pieces are the same)."""
    return splitting.split(input, split_size, dim)


def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """`chunk` (PyTorch's form that skips autograd's view checks)."""
    return splitting.chunk(input, chunks, dim)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The views at every position along `dim`, without that dim."""
    if input.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = wrap_dim(dim, input.ndim)
    return tuple(_piece(input, splitting.along_dim(d, i), "UnbindBackward0") for i in range(input.shape[d]))


def _piece(input: Tensor, index: tuple, grad_name: str) -> Tensor:
    """The view `input[index]` (a basic index), its `grad_fn` named `grad_name`."""
    resolved, shape, strides, _ = views.basic_index(input.shape, input._strides, index)
    return input._view_of((("index", resolved),), shape, strides, grad_name)


def column_stack(tensors) -> Tensor:
    """Tensors (vectors and numbers as columns) joined along their second dim."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("column_stack expects a non-empty TensorList")
    return splitting.hstack([t.reshape(t.numel(), 1) if t.ndim <= 1 else t for t in tensors])


def dstack(tensors) -> Tensor:
    """Tensors (at least 3-d, as `atleast_3d` makes them) joined along their third dim."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("dstack expects a non-empty TensorList")
    return copies.cat(list(dims.atleast_3d(tensors)), 2)


FUNCTIONS = {function.__name__: function for function in (tensor_split, hsplit, vsplit, dsplit, split_with_sizes,
                                                           unsafe_split, unsafe_chunk, unbind, column_stack, dstack)}
METHODS = {name: function for name, function in FUNCTIONS.items() if name not in ("column_stack", "dstack")}
