"""Products of vectors and matrices: `linalg.multi_dot`, `linalg.cross`/`cross`,
`linalg.vecdot`, `linalg.vander`, `linalg.diagonal`, `kron`, `inner`, `tensordot`, `vdot`,
`block_diag`, and the scaled sums `addmv`, `addr`, `addbmm`, `baddbmm` (`beta * input +
alpha * product`; with `beta=0` the input is not read, as in PyTorch).

    >>> import nablax.stateful as torch
    >>> torch.kron(torch.tensor([1, 2]), torch.tensor([1, 10]))
    tensor([ 1, 10,  2, 20])
"""

from __future__ import annotations

import functools
import warnings

import jax.numpy as jnp
import numpy as np

from .. import dtypes as dt
from ..engine import Op
from ..tensor import Tensor
from ..views import wrap_dim
from . import matmul
from .matrices import apply
from .splitting import check_batches


def _promoted(*tensors: Tensor) -> np.dtype:
    return dt.result_type(*tensors).numpy


def _cast(fn):
    """`fn` of its array operands cast to `dtype` first."""
    return lambda *arrays, dtype, **options: fn(*(a.astype(dtype) for a in arrays), **options)


def _kron(a, b):
    if a.dtype == jnp.bool_:  # JAX multiplies no bools: a product of 0s and 1s is their and
        return jnp.kron(a.astype(jnp.int8), b.astype(jnp.int8)).astype(jnp.bool_)
    return jnp.kron(a, b)


_KRON = Op("kron", _cast(_kron))
_INNER = Op("inner", _cast(jnp.inner))
def _tensordot(a, b, *, axes):
    """`jnp.tensordot`, where a contracted dim of size 1 meets any size (PyTorch sums the
    other operand over that dim)."""
    if not isinstance(axes, int):
        for dim_a, dim_b in zip(*axes):
            if a.shape[dim_a] == 1 and b.shape[dim_b] != 1:
                b = jnp.sum(b, dim_b, keepdims=True)
            elif b.shape[dim_b] == 1 and a.shape[dim_a] != 1:
                a = jnp.sum(a, dim_a, keepdims=True)
    return jnp.tensordot(a, b, axes)


_TENSORDOT = Op("tensordot", _cast(_tensordot))
_VDOT = Op("vdot", jnp.vdot)
_CROSS = Op("linalg_cross", _cast(lambda a, b, *, dim: jnp.cross(*jnp.broadcast_arrays(a, b), axis=dim)))
_VECDOT = Op("linalg_vecdot", _cast(lambda a, b, *, dim: jnp.sum(a * b, axis=dim)))
_DIAGONAL = Op("linalg_diagonal", lambda a, *, offset, dim1, dim2: jnp.diagonal(a, offset, dim1, dim2))


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: each element of `input` times all of `other`."""
    return apply(_KRON, (input, other), "UnsafeViewBackward0", (("dtype", _promoted(input, other)),))


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sums of products over the last dims (a product with a 0-d tensor)."""
    if input.ndim and other.ndim and input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    return apply(_INNER, (input, other), "MulBackward0" if not (input.ndim and other.ndim) else "ViewBackward0", (("dtype", _promoted(input, other)),))


def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Sums of products over the last `dims` dims of `a` and the first of `b` (or the
    listed dims of each)."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    axes = dims if isinstance(dims, int) else tuple(tuple([d] if isinstance(d, int) else d) for d in dims)
    if isinstance(axes, int) and axes < 0:
        raise RuntimeError(f"tensordot expects dims >= 0, but got dims={axes}")
    return apply(_TENSORDOT, (a, b), "ViewBackward0", (("dtype", _promoted(a, b)), ("axes", axes)))


def vdot(input: Tensor, other: Tensor) -> Tensor:
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"vdot : expected both vectors to have same dtype, but found {input.dtype.scalar_name} "
                           f"and {other.dtype.scalar_name}")
    if input.shape != other.shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src [{other.shape[0]}] to "
                           f"have the same number of elements, but got {input.shape[0]} and {other.shape[0]} elements respectively")
    return apply(_VDOT, (input, other), "VdotBackward0")


def _broadcast(input: Tensor, other: Tensor) -> tuple:
    return tuple(np.broadcast_shapes(tuple(input.shape), tuple(other.shape)))


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along `dim` (broadcast)."""
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    d = wrap_dim(dim, input.ndim)
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[d]} and "
                           f"{other.shape[d]}")
    _broadcast(input, other)
    return apply(_CROSS, (input, other), "LinalgCrossBackward0", (("dtype", _promoted(input, other)), ("dim", d)))


def cross(input: Tensor, other: Tensor, dim=None) -> Tensor:
    """`linalg.cross` along `dim`, by default the first dim of size 3 (deprecated by PyTorch)."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        dim = next((d for d, size in enumerate(_broadcast(input, other)) if size == 3), -1)
    return linalg_cross(input, other, dim=dim)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """Sums of products along `dim` (broadcast)."""
    shape = _broadcast(x, y)
    d = wrap_dim(dim, len(shape))
    return apply(_VECDOT, (x, y), "SumBackward1", (("dtype", _promoted(x, y)), ("dim", d)))


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: N803
    """The diagonal of the matrices over `dim1`, `dim2`, as a last dim (a copy, where
    PyTorch's is a view)."""
    d1, d2 = wrap_dim(dim1, A.ndim), wrap_dim(dim2, A.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return apply(_DIAGONAL, (A,), "DiagonalBackward0", (("offset", int(offset)), ("dim1", d1), ("dim2", d2)))


def _vander(x, *, n):
    ones = jnp.ones(x.shape + (1,), x.dtype)
    powers = jnp.cumprod(jnp.broadcast_to(x[..., None], x.shape + (n - 1,)), -1)
    return jnp.concatenate([ones, powers], -1)


_VANDER = Op("linalg_vander", _vander)


def vander(x: Tensor, *, N: int | None = None) -> Tensor:  # noqa: N803
    """Powers 0 to N-1 of `x` (its last dim), increasing along a new last dim."""
    if x.dtype is dt.bool_:
        raise RuntimeError("linalg.vander supports floating point, complex, and integer tensors, but got Bool")
    x = x if x.ndim else x.reshape(1)
    n = x.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    return apply(_VANDER, (x,), "CatBackward0", (("n", int(n)),))


def multi_dot(tensors) -> Tensor:
    """The product of a chain of matrices (the first and last may be vectors)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for index, tensor in enumerate(tensors):
        allowed = (1, 2) if index in (0, len(tensors) - 1) else (2,)
        if tensor.ndim not in allowed:
            place = "first" if index == 0 else "last" if index == len(tensors) - 1 else None
            raise RuntimeError(f"multi_dot(): the {place} tensor must be 1D or 2D but got {tensor.ndim}D" if place else
                               f"multi_dot(): tensor {index} must be 2D but got {tensor.ndim}D")
        if tensor.dtype is not tensors[0].dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                               f"{tensors[0].dtype.scalar_name} and tensor {index} {tensor.dtype.scalar_name}")
    shape = tensors[0].shape[:-1] + tensors[-1].shape[1:]
    first, last = tensors[0], tensors[-1]
    first = first.reshape(1, first.shape[0]) if first.ndim == 1 else first
    last = last.reshape(last.shape[0], 1) if last.ndim == 1 else last
    return functools.reduce(matmul.matmul, [first, *tensors[1:-1], last]).view(shape)


def _block_diag(*blocks, dtype):
    blocks = [b.reshape((1, 1) if b.ndim == 0 else (1, -1) if b.ndim == 1 else b.shape).astype(dtype) for b in blocks]
    result = jnp.zeros((sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)), dtype)
    row = column = 0
    for block in blocks:
        result = result.at[row:row + block.shape[0], column:column + block.shape[1]].set(block)
        row, column = row + block.shape[0], column + block.shape[1]
    return result


_BLOCK_DIAG = Op("block_diag", _block_diag)


def block_diag(*tensors) -> Tensor:
    """The matrices (vectors as rows, numbers as 1x1) along the diagonal, zeros elsewhere."""
    for index, tensor in enumerate(tensors):
        if tensor.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {index} has "
                               f"{tensor.ndim} dimensions")
    dtype = functools.reduce(dt.promote_types, (t.dtype for t in tensors)).numpy if tensors else np.dtype(np.float32)
    return apply(_BLOCK_DIAG, tensors, "BlockDiagBackward0", (("dtype", dtype),))


# -- scaled sums ----------------------------------------------------------------------------------


def _add_scaled(x, product, *, beta, alpha):
    if x.dtype == jnp.bool_:
        scaled = product & bool(alpha)
        return jnp.broadcast_to(scaled, jnp.broadcast_shapes(x.shape, scaled.shape)) if not beta else (x & bool(beta)) | scaled
    scaled = product if alpha == 1 else product * alpha
    if beta == 0:
        return jnp.broadcast_to(scaled, jnp.broadcast_shapes(x.shape, scaled.shape))
    return (x if beta == 1 else x * beta) + scaled


_PRODUCTS = {"addmv": lambda a, b: a @ b, "addr": lambda a, b: (a[:, None] & b[None, :]) if a.dtype == jnp.bool_
             else a[:, None] * b[None, :],
             "addbmm": lambda a, b: jnp.sum(a @ b, 0), "baddbmm": lambda a, b: a @ b}
_SCALED = {name: Op(name, lambda x, a, b, *, product=product, **scales: _add_scaled(x, product(a, b), **scales))
           for name, product in _PRODUCTS.items()}


def _scales(name: str, input: Tensor, beta, alpha) -> tuple:
    """`beta` and `alpha` in the input's kind: `addr` refuses floats for integer tensors,
    the others truncate them, as PyTorch does."""
    if input.dtype.is_floating_point or input.dtype.is_complex or input.dtype is dt.bool_:
        return beta, alpha
    for label, value in (("beta", beta), ("alpha", alpha)):
        if isinstance(value, float) and name == "addr":
            raise RuntimeError(f"For integral input tensors, argument {label} must not be a floating point number.")
    return int(beta), int(alpha)


def _scaled_sum(name: str, grad_name: str, input: Tensor, first: Tensor, second: Tensor, beta, alpha) -> Tensor:
    beta, alpha = _scales(name, input, beta, alpha)
    for tensor in (first, second):
        if tensor.dtype is not input.dtype:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {input.dtype.cpp_name} != "
                               f"{tensor.dtype.cpp_name}")
    return apply(_SCALED[name], (input, first, second), grad_name, (("beta", beta), ("alpha", alpha)))


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """`beta * input + alpha * (mat @ vec)`."""
    if mat.ndim != 2 or vec.ndim != 1 or mat.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0] if input.ndim else 1}), mat "
                           f"({'x'.join(map(str, mat.shape))}), vec ({vec.shape[0] if vec.ndim else 1})")
    return _scaled_sum("addmv", "AddmvBackward0", input, mat, vec, beta, alpha)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """`beta * input + alpha * outer(vec1, vec2)`."""
    if vec1.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {vec1.ndim}-D" if vec1.ndim != 1 else
                           f"addr: Expected 1-D argument vec2, but got {vec2.ndim}-D")
    return _scaled_sum("addr", "AddrBackward0", input, vec1, vec2, beta, alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """`beta * input + alpha * sum_b(batch1[b] @ batch2[b])`."""
    check_batches(batch1, batch2)
    return _scaled_sum("addbmm", "AddbmmBackward0", input, batch1, batch2, beta, alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """`beta * input + alpha * (batch1 @ batch2)`, batch by batch."""
    check_batches(batch1, batch2)
    return _scaled_sum("baddbmm", "BaddbmmBackward0", input, batch1, batch2, beta, alpha)


FUNCTIONS = {function.__name__: function for function in (kron, inner, tensordot, vdot, cross, block_diag, addmv, addr,
                                                           addbmm, baddbmm)}
METHODS = {name: function for name, function in FUNCTIONS.items() if name not in ("tensordot", "block_diag")}
LINALG = {"multi_dot": multi_dot, "cross": linalg_cross, "vecdot": vecdot, "diagonal": diagonal, "vander": vander}
