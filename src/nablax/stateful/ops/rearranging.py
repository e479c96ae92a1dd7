"""Ops that move elements to other places: `flip` (and `fliplr`, `flipud`), `roll`, the
triangles `tril`/`triu`, `diag` and `meshgrid`, with PyTorch's checks and node names."""

from __future__ import annotations

import warnings

import jax.numpy as jnp

from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from ..views import wrap_dim
from . import shape as S
from .inplace_forms import in_place


def _distinct_dims(dims, ndim: int) -> tuple:
    dims = tuple(wrap_dim(d, ndim) for d in dims)
    for d in dims:
        if dims.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return dims


_FLIP = Op("flip", lambda x, *, dims: jnp.flip(x, dims), saves=False)


def flip(input: Tensor, *dims) -> Tensor:
    """The elements in reverse order along `dims` (a tuple; a method also takes them as
    arguments, `x.flip(0, 1)`)."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    dims = _distinct_dims(dims, input.ndim)
    return record(_FLIP, (input,), input.shape, input.dtype.numpy, "FlipBackward0", (("dims", dims if input.ndim else ()),))


def _flip_function(input: Tensor, dims) -> Tensor:
    """`torch.flip(input, dims)`, whose `dims` must be a tuple or list."""
    if not isinstance(dims, (tuple, list)):
        raise TypeError(f"flip(): argument 'dims' (position 2) must be tuple of ints, not {type(dims).__name__}")
    return flip(input, tuple(dims))


def fliplr(input: Tensor) -> Tensor:
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


def flipud(input: Tensor) -> Tensor:
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


_ROLL = Op("roll", lambda x, *, shifts, dims: jnp.roll(x, shifts, dims).reshape(x.shape), saves=False)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """The elements moved `shifts` places along `dims` (of the flattened tensor without
    them), those leaving at one end coming back at the other."""
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        static = (("shifts", int(shifts[0])), ("dims", None))
    else:
        dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
        if len(shifts) != len(dims):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
        static = (("shifts", tuple(int(s) for s in shifts)), ("dims", tuple(wrap_dim(d, input.ndim) for d in dims)))
    return record(_ROLL, (input,), input.shape, input.dtype.numpy, "RollBackward0", static)


_TRIANGLES = {"tril": Op("tril", lambda x, *, diagonal: jnp.tril(x, diagonal), saves=False),
              "triu": Op("triu", lambda x, *, diagonal: jnp.triu(x, diagonal), saves=False)}


def _triangle(name: str):
    def triangle(input: Tensor, diagonal: int = 0) -> Tensor:
        if input.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        return record(_TRIANGLES[name], (input,), input.shape, input.dtype.numpy, f"{name.capitalize()}Backward0",
                      (("diagonal", int(diagonal)),))

    triangle.__name__ = triangle.__qualname__ = name
    triangle.__doc__ = f"The {'lower' if name == 'tril' else 'upper'} triangle of the last two dims from `diagonal` on; zeros elsewhere."
    return triangle


tril, triu = _triangle("tril"), _triangle("triu")

_DIAG = Op("diag", lambda x, *, diagonal: jnp.diag(x, diagonal), saves=False)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A vector made the `diagonal` of a square matrix, or a matrix's `diagonal` as a vector."""
    if input.ndim not in (1, 2):
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
    k = int(diagonal)
    if input.ndim == 1:
        size = input.shape[0] + abs(k)
        return record(_DIAG, (input,), (size, size), input.dtype.numpy, "DiagEmbedBackward0", (("diagonal", k),))
    rows, columns = input.shape
    length = max(0, min(rows + min(k, 0), columns - max(k, 0)))
    return record(_DIAG, (input,), (length,), input.dtype.numpy, "DiagonalBackward0_copy", (("diagonal", k),))


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids: the i-th result repeats the i-th (1-D or 0-d) tensor along every
    other dim. `indexing='ij'` (the default, with PyTorch's warning) orders the dims as the
    tensors; 'xy' swaps the first two. The results are expanded views, as in PyTorch."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    for tensor in tensors:
        if tensor.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {tensor}")
        if tensor.dtype is not tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        order[0], order[1] = 1, 0
    sizes = [tensors[i].numel() for i in order]
    grids = []
    for number, tensor in enumerate(tensors):
        shape = [1] * len(tensors)
        shape[order.index(number)] = -1
        grids.append(S.expand(S.reshape(tensor, tuple(shape)), tuple(sizes)))
    return tuple(grids)


FUNCTIONS = {"flip": _flip_function, "fliplr": fliplr, "flipud": flipud, "roll": roll, "tril": tril, "triu": triu,
             "diag": diag, "meshgrid": meshgrid}
METHODS = {"flip": flip, "fliplr": fliplr, "flipud": flipud, "roll": roll, "tril": tril, "triu": triu, "diag": diag,
           "tril_": in_place(tril, "tril_"), "triu_": in_place(triu, "triu_")}
