"""Views that add, drop or reorder dims: `atleast_1d`/`2d`/`3d`, `ravel`, the matrix
transposes `mT`, `mH`, `H`, `diagonal`, `unfold`'s windows and the broadcasts
(`broadcast_to`, `broadcast_tensors`, `broadcast_shapes`).

Each is a view where PyTorch's is (writes through it show in the base) and gives PyTorch's
shapes and errors. Tensors here are real, so the conjugate transposes are transposes.

    >>> import nablax.stateful as torch
    >>> x = torch.arange(9).reshape(3, 3)
    >>> x.diagonal().tolist(), torch.atleast_2d(torch.tensor(1)).shape
    ([0, 4, 8], torch.Size([1, 1]))
"""

from __future__ import annotations

import warnings

from ..tensor import Size, Tensor
from ..views import StaticSlice, wrap_dim
from . import shape as S
from .common import broadcast_shapes as broadcast_pair


def _each(function, tensors):
    """`function` of one tensor, or a tuple of its results for several (as arguments or one list)."""
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return function(tensors[0])
    if len(tensors) == 1:
        tensors = tuple(tensors[0])
    return tuple(function(t) for t in tensors)


def _at_least(ndim: int):
    def expand_dims(x: Tensor) -> Tensor:
        if x.ndim >= ndim:
            return x
        if x.ndim == 0:
            return S.reshape(x, (1,) * ndim)
        if ndim == 2 or x.ndim == 2:  # a vector is a row; a matrix gets a last dim
            return S.unsqueeze(x, 0 if ndim == 2 else -1)
        return S.reshape(x, (1, x.shape[0], 1))

    def at_least(*tensors):
        return _each(expand_dims, tensors)

    at_least.__name__ = at_least.__qualname__ = f"atleast_{ndim}d"
    at_least.__doc__ = f"Each tensor viewed with at least {ndim} dims (a tuple for several)."
    return at_least


atleast_1d, atleast_2d, atleast_3d = _at_least(1), _at_least(2), _at_least(3)


def ravel(input: Tensor) -> Tensor:
    """The elements as a vector: a view where the layout allows, else a copy."""
    return S.reshape(input, -1)


def matrix_transpose(x: Tensor) -> Tensor:
    """`x.mT` (and `x.mH`: the tensors are real): the last two dims swapped."""
    if x.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {x.ndim}-D tensor.")
    return S.transpose(x, -2, -1)


def matrix_adjoint(x: Tensor) -> Tensor:
    if x.ndim < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. Got {x.ndim}-D tensor.")
    return S.transpose(x, -2, -1)


def adjoint(x: Tensor) -> Tensor:
    """`x.H`: the transpose of a matrix (a 0-d tensor is itself, with PyTorch's warning)."""
    if x.ndim == 0:
        warnings.warn("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().", UserWarning, stacklevel=3)
        return S.transpose(x, 0, -1)
    if x.ndim != 2:
        hint = " For batches of matrices, consider using tensor.mH" if x.ndim > 2 else ""
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {x.ndim}-D tensor.{hint}")
    return S.t(x)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The view of the elements at `[i, i + offset]` of dims `dim1`, `dim2`, as a last dim.

    The two dims are moved last and flattened into one, whose diagonal is a slice with step
    `columns + 1`: three view steps, so writes through it reach the base."""
    a, b = wrap_dim(dim1, input.ndim), wrap_dim(dim2, input.ndim)
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rows, columns = input.shape[a], input.shape[b]
    length = max(0, min(rows + min(offset, 0), columns - max(offset, 0)))
    start = offset if offset >= 0 else -offset * columns
    rest = [d for d in range(input.ndim) if d not in (a, b)]
    shape = tuple(input.shape[d] for d in rest)
    stride = input._strides[a] + input._strides[b]
    step = columns + 1
    along = StaticSlice(start, start + (length - 1) * step + 1, step) if length else StaticSlice(0, 0, 1)
    steps = (("permute", (*rest, a, b)), ("reshape", shape + (rows * columns,)),
             ("index", tuple(StaticSlice(0, size, 1) for size in shape) + (along,)))
    return input._view_of(steps, shape + (length,), tuple(input._strides[d] for d in rest) + (stride,), "DiagonalBackward0")


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """The view of every window of `size` elements, `step` apart, along `dimension`: that dim
    counts the windows and a new last dim holds them.

        >>> import nablax.stateful as torch
        >>> torch.arange(5).unfold(0, 2, 2).tolist()
        [[0, 1], [2, 3]]
    """
    d = wrap_dim(dimension, input.ndim)
    length = input.shape[d] if input.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if not input.ndim:
        return input._view_of((("windows", (0, size, step)),), (size,), (1,), "UnfoldBackward0")
    count = (length - size) // step + 1
    shape = input.shape[:d] + (count,) + input.shape[d + 1 :] + (size,)
    strides = list(input._strides)
    strides[d] *= step
    return input._view_of((("windows", (d, size, step)),), shape, (*strides, input._strides[d]), "UnfoldBackward0")


def broadcast_shapes(*shapes) -> Size:
    """The shape that tensors of `shapes` (ints or sequences) broadcast to."""
    result: tuple = ()
    for index, shape in enumerate(shapes):
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        try:
            result = broadcast_pair(result, shape)
        except RuntimeError:
            mismatch = next(i for i in range(1, min(len(result), len(shape)) + 1)
                            if shape[-i] != result[-i] and 1 not in (shape[-i], result[-i]))
            raise RuntimeError(f"Attempting to broadcast a dimension of length {shape[-mismatch]} at {-mismatch}! Mismatching "
                               f"argument at index {index} had {shape}; but expected shape should be broadcastable to "
                               f"[{', '.join(map(str, result))}]") from None
    return Size(result)


def broadcast_to(input: Tensor, size) -> Tensor:
    """`input` expanded to `size` (a view)."""
    return S.expand(input, tuple(size))


def broadcast_tensors(*tensors) -> tuple:
    """The tensors expanded to their common shape (views)."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    shape = ()
    for tensor in tensors:
        shape = broadcast_pair(shape, tensor.shape)
    return tuple(S.expand(t, shape) for t in tensors)


FUNCTIONS = {function.__name__: function for function in (atleast_1d, atleast_2d, atleast_3d, ravel, diagonal,
                                                           broadcast_shapes, broadcast_to, broadcast_tensors)}
METHODS = {"ravel": ravel, "diagonal": diagonal, "unfold": unfold, "broadcast_to": broadcast_to,
           "mT": property(matrix_transpose), "mH": property(matrix_adjoint), "H": property(adjoint),
           "adjoint": matrix_adjoint}
FUNCTIONS.update(adjoint=matrix_adjoint)
