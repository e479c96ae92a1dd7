"""Ops made of the views and products already here: `split`, `chunk`, `narrow`, `select`,
`unflatten`, `movedim`, `swapaxes`, `hstack`, `vstack`, `bmm` and `addmm`.

Each result is what PyTorch's is (views where PyTorch's are views, the same values,
gradients and errors); the `grad_fn` names are those of the ops they are made of (a piece
of `split` is a `SliceBackward0`, where PyTorch names its `SplitBackward0`)."""

from __future__ import annotations

import math

from ..tensor import Tensor
from ..views import wrap_dim
from . import arithmetic as A
from . import copies, matmul, shape


def along_dim(dim: int, index) -> tuple:
    """An index that takes `index` along `dim` and everything along the others."""
    return (slice(None),) * dim + (index,)


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Views of `tensor` along `dim`: pieces of `split_size` (the last may be shorter), or of
    the sizes listed.

        >>> import nablax.stateful as torch
        >>> [piece.tolist() for piece in torch.arange(5).split(2)]
        [[0, 1], [2, 3], [4]]
    """
    d = wrap_dim(dim, tensor.ndim)
    length = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
        if size == 0 and length:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {length}")
        pieces = max(-(-length // size), 1) if size else 1  # an empty dim gives one empty piece
        sizes = [size] * (pieces - 1) + [length - size * (pieces - 1)]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != length:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {length} (input tensor's size at "
                               f"dimension {dim}), but got split_sizes={sizes}")
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    return tuple(tensor[along_dim(d, slice(start, start + size))] for start, size in zip(starts, sizes))


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """At most `chunks` views of equal size along `dim` (the last may be smaller)."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    d = wrap_dim(dim, input.ndim)
    length = input.shape[d]
    return split(input, math.ceil(length / chunks) if length else [0] * chunks, d)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The view of `length` elements along `dim` from `start`."""
    d = wrap_dim(dim, input.ndim)
    size = input.shape[d]
    if start < -size or start > size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    start = start + size if start < 0 else start
    if length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return input[along_dim(d, slice(start, start + length))]


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The view at `index` along `dim`, without that dim."""
    d = wrap_dim(dim, input.ndim)
    size = input.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at dimension {dim}")
    return input[along_dim(d, index)]


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """`dim` split into `sizes` (one of them may be -1)."""
    d = wrap_dim(dim, input.ndim)
    return shape.view(input, *input.shape[:d], *sizes, *input.shape[d + 1 :])


def movedim(input: Tensor, source, destination) -> Tensor:
    """The dims at `source` moved to `destination` (ints or sequences of them), the others in
    their order."""
    sources = [wrap_dim(s, input.ndim) for s in ([source] if isinstance(source, int) else source)]
    targets = [wrap_dim(t, input.ndim) for t in ([destination] if isinstance(destination, int) else destination)]
    if len(sources) != len(targets):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(sources)} dims) should contain "
                           f"the same number of dims as destination ({list(targets)} dims)")
    rest = iter(d for d in range(input.ndim) if d not in sources)
    placed = dict(zip(targets, sources))
    return shape.permute(input, *[placed[d] if d in placed else next(rest) for d in range(input.ndim)])


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    return shape.transpose(input, axis0, axis1)


def hstack(tensors) -> Tensor:
    """Tensors joined along their first dim (vectors), else their second."""
    tensors = [t if t.ndim else t.reshape(1) for t in tensors]
    return copies.cat(tensors, 0 if tensors and tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Tensors (vectors as rows) joined along their first dim."""
    return copies.cat([t.reshape(1, -1) if t.ndim < 2 else t for t in tensors], 0)


def check_batches(batch1: Tensor, batch2: Tensor) -> None:
    """PyTorch's checks of two batches of matrices to multiply pairwise."""
    if batch1.ndim != 3 or batch2.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if batch1.ndim != 3 else "batch2 must be a 3D tensor")
    if batch1.shape[0] != batch2.shape[0] or batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{batch1.shape[0]}, {batch1.shape[2]}] but got: [{batch2.shape[0]}, {batch2.shape[1]}].")


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batches of matrices multiplied pairwise: [b, n, m] @ [b, m, p]."""
    check_batches(input, mat2)
    return matmul.matmul(input, mat2)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """`beta * input + alpha * (mat1 @ mat2)`; with `beta=0`, `input` is not read (its nan
    and inf do not propagate)."""
    product = matmul.mm(mat1, mat2)
    if alpha != 1:
        product = A.mul(product, alpha)
    if beta == 0:
        return product
    return A.add(A.mul(input, beta) if beta != 1 else input, product)


FUNCTIONS = {function.__name__: function for function in (split, chunk, narrow, select, unflatten, movedim, swapaxes,
                                                           hstack, vstack, bmm, addmm)}
FUNCTIONS.update(moveaxis=movedim, swapdims=swapaxes)
METHODS = {name: function for name, function in FUNCTIONS.items() if name not in ("hstack", "vstack")}
