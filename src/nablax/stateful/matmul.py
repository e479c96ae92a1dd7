"""`matmul` in all its cases, with PyTorch's shape and dtype errors and backward-node names."""

from __future__ import annotations

import math

import jax.numpy as jnp

from ..nn.linear import without_negative_zeros
from .autograd import is_grad_enabled
from .core import TensorCore, infer, record
from .lazy import Op
from .math_ops import _type_name, broadcast_shapes

# -- matmul ------------------------------------------------------------------------------------------


def _matmul(a, b):
    return without_negative_zeros(jnp.matmul(a, b))


MATMUL = Op("matmul", _matmul)
# A batched product with an empty input: PyTorch returns zeros of the second input's dtype.
EMPTY_BATCHED_MATMUL = Op("empty_batched_matmul", lambda a, b: _matmul(a, b).astype(b.dtype))


# C++ type names, as PyTorch's mm/bmm dtype errors print them.
_CPP_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
                   "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
                   "uint8": "unsigned char", "bool": "bool"}


def _check_matmul_dtypes(a, b) -> None:
    if a.dtype is b.dtype:
        return
    if a.ndim == 1 and b.ndim == 1:
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found {_type_name(a.dtype)} and {_type_name(b.dtype)}")
    names = (_CPP_TYPE_NAMES.get(a.dtype.name, a.dtype.name), _CPP_TYPE_NAMES.get(b.dtype.name, b.dtype.name))
    raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {names[0]} != {names[1]}")


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
    if not isinstance(b, TensorCore):
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
        if sa != sb:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have the same number of "
                f"elements, but got {sa[0]} and {sb[0]} elements respectively"
            )
        _refuse_bools(a, "dot")
        return record(MATMUL, (a, b), (), a.dtype.numpy, "DotBackward0")
    if len(sa) == 2 and len(sb) == 1:
        if sa[1] != sb[0]:
            raise RuntimeError(f"size mismatch, got input ({sa[0]}), mat ({sa[0]}x{sa[1]}), vec ({sb[0]})")
        _refuse_bools(a, "addmv_impl_cpu", (sa[0],), sa[1])
        return record(MATMUL, (a, b), (sa[0],), a.dtype.numpy, "MvBackward0")
    if len(sa) <= 2 and len(sb) == 2:
        rows = sa[0] if len(sa) == 2 else 1
        if sa[-1] != sb[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{sa[-1]} and {sb[0]}x{sb[1]})")
        shape = (sa[0], sb[1]) if len(sa) == 2 else (sb[1],)
        _refuse_bools(a, "addmm_impl_cpu_", shape, sa[-1])
        return record(MATMUL, (a, b), shape, a.dtype.numpy, "MmBackward0" if len(sa) == 2 else "SqueezeBackward4")
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
