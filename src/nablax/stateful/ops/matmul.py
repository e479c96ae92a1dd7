"""`matmul` in all its cases, with PyTorch's shape and dtype errors and backward-node names."""

from __future__ import annotations

import math

import jax.numpy as jnp

from ...nn.linear import without_negative_zeros
from ..engine import Op, is_grad_enabled
from ..recording import infer, record
from ..tensor import Tensor
from .common import broadcast_shapes

# -- matmul ------------------------------------------------------------------------------------------


def _matmul(a, b):
    return without_negative_zeros(jnp.matmul(a, b))


MATMUL = Op("matmul", _matmul)
# A batched product with an empty input: PyTorch returns zeros of the second input's dtype.
EMPTY_BATCHED_MATMUL = Op("empty_batched_matmul", lambda a, b: _matmul(a, b).astype(b.dtype))


def _check_matmul_dtypes(a, b) -> None:
    if a.dtype is b.dtype:
        return
    if a.ndim == 1 and b.ndim == 1:
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found {a.dtype.scalar_name} and {b.dtype.scalar_name}")
    raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype.cpp_name} != {b.dtype.cpp_name}")


def _check_batched_matmul(sa: tuple, sb: tuple) -> None:
    """PyTorch's errors for matmul with a tensor of 3 or more dimensions: folded into mm/mv
    when only the first one is batched, else a broadcast batch for bmm."""
    if len(sa) >= 3 and len(sb) <= 2:
        rows = math.prod(sa[:-1])
        if len(sb) == 1 and sa[-1] != sb[0]:
            raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{sa[-1]}), vec ({sb[0]})")
        if len(sb) == 2 and sa[-1] != sb[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{sa[-1]} and {sb[0]}x{sb[1]})")
        return
    batch = math.prod(broadcast_shapes(sa[:-2], sb[:-2]))
    inner = sb[-2] if len(sb) > 1 else sb[-1]
    if sa[-1] != inner:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {sa[-1]}] but got: [{batch}, {inner}]."
        )


def _refuse_bools(a, kernel: str, shape=(1,), inner: int = 1) -> None:
    """PyTorch's BLAS kernels take no bools; it checks shapes before it looks for one, and
    runs none (so raises nothing) for a result of `shape` that is empty or, with an `inner`
    size 0, all zeros."""
    if a.dtype.name == "bool" and math.prod(shape) and inner:
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def matmul(a, b):
    """PyTorch's `matmul`, with its shape errors and backward-node names per case."""
    if not isinstance(b, Tensor):
        raise TypeError(f"matmul(): argument 'other' (position 2) must be Tensor, not {type(b).__name__}")
    sa, sb = a.shape, b.shape
    if not sa or not sb:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {len(sa)}D and {len(sb)}D")
    if len(sb) > 2:  # a batched product: shapes first, and nothing else with an empty input
        _check_batched_matmul(sa, sb)
        if a.numel() and b.numel():
            _refuse_bools(a, "bmm")
            _check_matmul_dtypes(a, b)
    else:
        _check_matmul_dtypes(a, b)
    if len(sa) == 1 and len(sb) == 1:
        return _dot(a, b)
    if len(sa) == 2 and len(sb) == 1:
        return _matrix_vector(a, b)
    if len(sa) <= 2 and len(sb) == 2:
        return _matrix_matrix(a, b)
    return _batched(a, b)


def _dot(a, b):
    sa, sb = a.shape, b.shape
    if sa != sb:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have the same number of "
            f"elements, but got {sa[0]} and {sb[0]} elements respectively"
        )
    _refuse_bools(a, "dot")
    return record(MATMUL, (a, b), (), a.dtype.numpy, "DotBackward0")


def _matrix_vector(a, b):
    sa, sb = a.shape, b.shape
    if sa[1] != sb[0]:
        raise RuntimeError(f"size mismatch, got input ({sa[0]}), mat ({sa[0]}x{sa[1]}), vec ({sb[0]})")
    _refuse_bools(a, "addmv_impl_cpu", (sa[0],), sa[1])
    return record(MATMUL, (a, b), (sa[0],), a.dtype.numpy, "MvBackward0")


def _matrix_matrix(a, b):
    """A matrix (or a vector, as a row) times a matrix."""
    sa, sb = a.shape, b.shape
    rows = sa[0] if len(sa) == 2 else 1
    if sa[-1] != sb[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{sa[-1]} and {sb[0]}x{sb[1]})")
    shape = (sa[0], sb[1]) if len(sa) == 2 else (sb[1],)
    _refuse_bools(a, "addmm_impl_cpu_", shape, sa[-1])
    return record(MATMUL, (a, b), shape, a.dtype.numpy, "MmBackward0" if len(sa) == 2 else "SqueezeBackward4")


def _batched(a, b):
    """A product with a batch of matrices on either side."""
    sa, sb = a.shape, b.shape
    _check_batched_matmul(sa, sb)
    shape, dtype = infer(MATMUL, (a, b))
    if len(sb) <= 2:  # folded into one mm
        _refuse_bools(a, "addmm_impl_cpu_", shape, sa[-1])
    elif not (a.numel() and b.numel()):
        return record(EMPTY_BATCHED_MATMUL, (a, b), shape, b.dtype.numpy, "UnsafeViewBackward0",
                      differentiable=b.dtype.is_floating_point)
    # PyTorch folds a matrix that requires grad times a batch into one mm on the transposed
    # batch; transposing the result back ends in a copy, unless it is contiguous as it is
    # (one of its last two sizes is 1).
    folded_transposed = len(sa) == 2 and a.requires_grad and is_grad_enabled()
    name = "UnsafeViewBackward0"
    if folded_transposed:
        name = "TransposeBackward0" if 1 in shape[-2:] else "CloneBackward0"
    return record(MATMUL, (a, b), shape, dtype, name)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError("self must be a matrix" if input.ndim != 2 else "mat2 must be a matrix")
    return matmul(input, mat2)


def dot(input: Tensor, other: Tensor) -> Tensor:
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    return matmul(input, other)
