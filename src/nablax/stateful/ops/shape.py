"""View ops: `view`, `reshape`, `flatten`, `permute`, `transpose`, `t`, `squeeze`,
`unsqueeze`, `expand`, with PyTorch's rules for what is a view, its strides and its errors."""

from __future__ import annotations

import math
import warnings

import jax.numpy as jnp
import numpy as np

from .. import dtypes as dt
from .. import views
from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from ..views import wrap_dim


def size_args(shape) -> tuple:
    """`view(2, 3)`, `view((2, 3))` and `view(torch.Size([2, 3]))` all mean (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def view(x: Tensor, *shape):
    if not shape:
        raise TypeError("view() received an invalid combination of arguments - got (), but expected one of:\n"
                        " * (torch.dtype dtype)\n * (tuple of ints size)\n")
    if len(shape) == 1 and isinstance(shape[0], dt.dtype):
        raise NotImplementedError("view(dtype) reinterprets bits, which nablax does not support; use .to(dtype)")
    new_shape = views.infer_shape(size_args(shape), x.numel())
    strides = views.view_strides(x.shape, x._strides, new_shape)
    if strides is None:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension spans across "
            "two contiguous subspaces). Use .reshape(...) instead."
        )
    return x._view_of((("reshape", new_shape),), new_shape, strides, "ViewBackward0")


def reshape(x: Tensor, *shape):
    if not shape:
        raise TypeError('reshape() missing 1 required positional arguments: "shape"')
    new_shape = views.infer_shape(size_args(shape), x.numel())
    strides = views.view_strides(x.shape, x._strides, new_shape)
    if strides is not None:
        return x._view_of((("reshape", new_shape),), new_shape, strides, "ViewBackward0")
    return record(RESHAPE_COPY, (x,), new_shape, x.dtype.numpy, "UnsafeViewBackward0", (("shape", new_shape),))


RESHAPE_COPY = Op("reshape", lambda x, *, shape: jnp.reshape(x, shape), saves=False,
                  host=lambda x, *, shape: np.reshape(x, shape))


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1):
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = wrap_dim(start_dim, x.ndim), wrap_dim(end_dim, x.ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return x
    shape = x.shape[:start] + (math.prod(x.shape[start : end + 1]),) + x.shape[end + 1 :]
    return reshape(x, shape)


def permute(x: Tensor, *dims, grad_name: str = "PermuteBackward0"):
    if not dims:  # `permute(())` is fine: dims are the one argument Python requires
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    dims = size_args(dims)
    if len(dims) != x.ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired "
            f"ordering of dimensions i.e. input.dim() = {x.ndim} is not equal to len(dims) = {len(dims)}"
        )
    dims = tuple(wrap_dim(d, x.ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    shape = tuple(x.shape[d] for d in dims)
    strides = tuple(x._strides[d] for d in dims)
    return x._view_of((("permute", dims),), shape, strides, grad_name)


def transpose(x: Tensor, dim0: int, dim1: int):
    a, b = wrap_dim(dim0, x.ndim), wrap_dim(dim1, x.ndim)
    dims = list(range(x.ndim))
    if dims:  # a 0-d tensor takes dims 0 and -1, and its transpose is a view of it
        dims[a], dims[b] = dims[b], dims[a]
    return permute(x, tuple(dims), grad_name="TransposeBackward0")


def t(x: Tensor):
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return permute(x, tuple(reversed(range(x.ndim))), grad_name="TBackward0")


def numpy_t(x: Tensor):
    """`x.T`: all dimensions reversed (PyTorch deprecates it for other than matrices)."""
    if x.ndim == 0:
        warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases.",
                      UserWarning, stacklevel=3)
    elif x.ndim != 2:
        warnings.warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and it will "
            "throw an error in a future release. Consider `x.mT` to transpose batches of matrices or "
            "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.",
            UserWarning, stacklevel=3)
    return permute(x, tuple(reversed(range(x.ndim))))


def squeeze(x: Tensor, dim=None):
    if dim is None:
        dims = tuple(i for i, s in enumerate(x.shape) if s == 1)
        name = "SqueezeBackward0"
    else:
        dims = tuple(wrap_dim(d, x.ndim) for d in (dim if isinstance(dim, (tuple, list)) else (dim,)))
        dims = tuple(d for d in dims if x.ndim and x.shape[d] == 1)
        name = "SqueezeBackward1" if not isinstance(dim, (tuple, list)) else "SqueezeBackward2"
    shape = tuple(s for i, s in enumerate(x.shape) if i not in dims)
    strides = tuple(s for i, s in enumerate(x._strides) if i not in dims)
    return x._view_of((("reshape", shape),), shape, strides, name)


def unsqueeze(x: Tensor, dim: int):
    d = wrap_dim(dim, x.ndim + 1)
    shape = x.shape[:d] + (1,) + x.shape[d:]
    stride = x._strides[d] * x.shape[d] if d < x.ndim else 1
    strides = x._strides[:d] + (stride,) + x._strides[d:]
    return x._view_of((("reshape", shape),), shape, strides, "UnsqueezeBackward0")


def expand(x: Tensor, *sizes):
    sizes = size_args(sizes)
    shape, strides = expanded_shape(x.type(), x.shape, x._strides, sizes)
    return x._view_of((("expand", shape),), shape, strides, "ExpandBackward0")


def expanded_shape(type_name: str, own_shape: tuple, own_strides: tuple, sizes: tuple) -> tuple:
    """The shape and strides of a tensor of `own_shape` expanded to `sizes`, with PyTorch's errors."""
    if len(sizes) < len(own_shape):
        raise RuntimeError(
            f"expand({type_name}{{[{', '.join(map(str, own_shape))}]}}, size=[{', '.join(map(str, sizes))}]): the number "
            f"of sizes provided ({len(sizes)}) must be greater or equal to the number of dimensions in the tensor "
            f"({len(own_shape)})"
        )
    lead = len(sizes) - len(own_shape)
    shape, strides = [], []
    for i, size in enumerate(sizes):
        if i < lead:
            if size < 0:
                raise RuntimeError(f"The expanded size of the tensor ({size}) isn't allowed in a leading, non-existing dimension {i}")
            shape.append(size)
            strides.append(0)
            continue
        own = own_shape[i - lead]
        if size == -1:
            size = own
        if own != size and own != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({size}) must match the existing size ({own}) at non-singleton "
                f"dimension {i}.  Target sizes: [{', '.join(map(str, sizes))}].  Tensor sizes: [{', '.join(map(str, own_shape))}]"
            )
        shape.append(size)
        strides.append(own_strides[i - lead] if own == size else 0)
    for i in reversed(range(lead if own_shape else 0)):  # a new dim of size 1 gets a contiguous stride (0-d: none)
        if shape[i] == 1:
            strides[i] = shape[i + 1] * strides[i + 1] if i + 1 < len(shape) else 1
    return tuple(shape), tuple(strides)
