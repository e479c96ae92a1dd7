"""Shape ops: views (view, reshape, permute, indexing, ...), copies (cat, stack, clone, to)
and item assignment, with PyTorch's rules for what is a view and its error messages."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from . import dtypes as dt
from . import lazy, views
from .core import TensorCore, make_view, record
from .lazy import Op
from .views import wrap_dim


def _size_args(shape) -> tuple:
    """`view(2, 3)`, `view((2, 3))` and `view(torch.Size([2, 3]))` all mean (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def view(x: TensorCore, *shape):
    if len(shape) == 1 and isinstance(shape[0], dt.dtype):
        raise NotImplementedError("view(dtype) reinterprets bits, which nablax does not support; use .to(dtype)")
    new_shape = views.infer_shape(_size_args(shape), x.numel())
    strides = views.view_strides(x.shape, x._strides, new_shape)
    if strides is None:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension spans across "
            "two contiguous subspaces). Use .reshape(...) instead."
        )
    return make_view(x, (("reshape", new_shape),), new_shape, strides, "ViewBackward0")


def reshape(x: TensorCore, *shape):
    new_shape = views.infer_shape(_size_args(shape), x.numel())
    strides = views.view_strides(x.shape, x._strides, new_shape)
    if strides is not None:
        return make_view(x, (("reshape", new_shape),), new_shape, strides, "ViewBackward0")
    return record(RESHAPE_COPY, (x,), new_shape, x.dtype.numpy, "UnsafeViewBackward0", (("shape", new_shape),), saves=False)


RESHAPE_COPY = Op("reshape", lambda x, *, shape: jnp.reshape(x, shape))


def flatten(x: TensorCore, start_dim: int = 0, end_dim: int = -1):
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = wrap_dim(start_dim, x.ndim), wrap_dim(end_dim, x.ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return x
    shape = x.shape[:start] + (math.prod(x.shape[start : end + 1]),) + x.shape[end + 1 :]
    return reshape(x, shape)


def permute(x: TensorCore, *dims, grad_name: str = "PermuteBackward0"):
    dims = _size_args(dims)
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
    return make_view(x, (("permute", dims),), shape, strides, grad_name)


def transpose(x: TensorCore, dim0: int, dim1: int):
    if x.ndim == 0:
        return x
    a, b = wrap_dim(dim0, x.ndim), wrap_dim(dim1, x.ndim)
    dims = list(range(x.ndim))
    dims[a], dims[b] = dims[b], dims[a]
    return permute(x, *dims, grad_name="TransposeBackward0")


def t(x: TensorCore):
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return permute(x, *reversed(range(x.ndim)), grad_name="TBackward0") if x.ndim == 2 else x


def numpy_t(x: TensorCore):
    """`x.T`: all dimensions reversed."""
    return permute(x, *reversed(range(x.ndim)))


def squeeze(x: TensorCore, dim=None):
    if dim is None:
        dims = tuple(i for i, s in enumerate(x.shape) if s == 1)
        name = "SqueezeBackward0"
    else:
        dims = tuple(wrap_dim(d, x.ndim) for d in (dim if isinstance(dim, (tuple, list)) else (dim,)))
        dims = tuple(d for d in dims if x.shape[d] == 1)
        name = "SqueezeBackward1" if not isinstance(dim, (tuple, list)) else "SqueezeBackward2"
    shape = tuple(s for i, s in enumerate(x.shape) if i not in dims)
    strides = tuple(s for i, s in enumerate(x._strides) if i not in dims)
    return make_view(x, (("reshape", shape),), shape, strides, name)


def unsqueeze(x: TensorCore, dim: int):
    d = wrap_dim(dim, x.ndim + 1)
    shape = x.shape[:d] + (1,) + x.shape[d:]
    stride = x._strides[d] * x.shape[d] if d < x.ndim else 1
    strides = x._strides[:d] + (stride,) + x._strides[d:]
    return make_view(x, (("reshape", shape),), shape, strides, "UnsqueezeBackward0")


def expand(x: TensorCore, *sizes):
    sizes = _size_args(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(
            f"expand(torch.FloatTensor{{[{', '.join(map(str, x.shape))}]}}, size=[{', '.join(map(str, sizes))}]): the number "
            f"of sizes provided ({len(sizes)}) must be greater or equal to the number of dimensions in the tensor ({x.ndim})"
        )
    lead = len(sizes) - x.ndim
    shape, strides = [], []
    for i, size in enumerate(sizes):
        if i < lead:
            if size < 0:
                raise RuntimeError(f"The expanded size of the tensor ({size}) isn't allowed in a leading, non-existing dimension {i}")
            shape.append(size)
            strides.append(0)
            continue
        own = x.shape[i - lead]
        if size == -1:
            size = own
        if own != size and own != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({size}) must match the existing size ({own}) at non-singleton "
                f"dimension {i}.  Target sizes: [{', '.join(map(str, sizes))}].  Tensor sizes: [{', '.join(map(str, x.shape))}]"
            )
        shape.append(size)
        strides.append(x._strides[i - lead] if own == size else 0)
    shape = tuple(shape)
    return make_view(x, (("expand", shape),), shape, tuple(strides), "ExpandBackward0")


# -- indexing ------------------------------------------------------------------------------------


def _index_component(component):
    """An advanced index component as a host int array (bool masks become positions)."""
    if isinstance(component, TensorCore):
        if component.dtype is dt.bool_ or component.dtype is dt.uint8:
            return ("mask", np.asarray(component._value()).astype(bool))
        if component.dtype.is_floating_point:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return ("array", np.asarray(component._value()).astype(np.int64))
    array = np.asarray(component)
    if array.dtype == np.bool_:
        return ("mask", array)
    if not np.issubdtype(array.dtype, np.integer):
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return ("array", array.astype(np.int64))


def _is_basic(component) -> bool:
    return component is None or component is Ellipsis or (
        isinstance(component, (int, np.integer, slice)) and not isinstance(component, (bool, np.bool_)))


def _advanced_index(x: TensorCore, index) -> tuple:
    """Splits an index with tensors or lists into a static layout (basic components, and
    ("array", k) for the k-th index array) and the index arrays, checking bounds."""
    components = [c if _is_basic(c) else _index_component(c) for c in (index if isinstance(index, tuple) else (index,))]
    width = lambda c: 0 if c is None or c is Ellipsis else (max(c[1].ndim, 1) if isinstance(c, tuple) and c[0] == "mask" else 1)
    consumed = sum(width(c) for c in components)
    if consumed > x.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x.ndim}")
    layout, arrays = [], []
    dim = 0
    for component in components:
        if component is Ellipsis:
            layout.append(component)
            dim += x.ndim - consumed
        elif _is_basic(component):
            layout.append(component)
            dim += width(component)
        elif component[0] == "mask":
            mask = component[1]
            if mask.shape != x.shape[dim : dim + mask.ndim]:
                raise IndexError(
                    f"The shape of the mask {list(mask.shape)} at index {dim} does not match the shape of the indexed "
                    f"tensor {list(x.shape)} at index {dim}"
                )
            for axis_positions in np.nonzero(mask):
                layout.append(("array", len(arrays)))
                arrays.append(axis_positions)
            dim += mask.ndim
        else:
            array, size = component[1], x.shape[dim]
            bad = array[(array < -size) | (array >= size)]
            if bad.size:
                raise IndexError(f"index {int(bad.flat[0])} is out of bounds for dimension {dim} with size {size}")
            layout.append(("array", len(arrays)))
            arrays.append(array)
            dim += 1
    return tuple(layout), arrays


def _gather_fn(x, *arrays, layout):
    index = tuple(arrays[c[1]] if isinstance(c, tuple) else c for c in layout)
    return x[index]


GATHER = Op("index", _gather_fn)


def getitem(x: TensorCore, index):
    if x.ndim == 0 and index is not None and index is not Ellipsis and not (isinstance(index, tuple) and not index):
        if not isinstance(index, TensorCore):
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    if views.is_basic_index(index):
        resolved, shape, strides, name = views.basic_index(x.shape, x._strides, index)
        return make_view(x, (("index", resolved),), shape, strides, name)
    layout, arrays = _advanced_index(x, index)
    sources = [lazy.source(jnp.asarray(a)) for a in arrays]
    shape = _shape_after(x.shape, layout, arrays)
    return record(GATHER, (x, *sources), shape, x.dtype.numpy, "IndexBackward0", (("layout", layout),),
                  differentiable=(True,) + (False,) * len(sources))


def _shape_after(shape: tuple, layout, arrays) -> tuple:
    """The shape `x[index]` has, found by indexing a zero-strided stand-in (no big allocation)."""
    stand_in = np.lib.stride_tricks.as_strided(np.zeros(1, np.int8), shape, (0,) * len(shape))
    return stand_in[tuple(arrays[c[1]] if isinstance(c, tuple) else c for c in layout)].shape


def _scatter_fn(x, value, *arrays, layout):
    index = tuple(arrays[c[1]] if isinstance(c, tuple) else c for c in layout)
    return x.at[index].set(jnp.asarray(value).astype(x.dtype))


SCATTER = Op("index_put", _scatter_fn)


def setitem(x: TensorCore, index, value) -> None:
    """`x[index] = value`: an in-place write (PyTorch's `CopySlices`)."""
    x._check_inplace()
    if views.is_basic_index(index):
        layout, arrays = views.basic_index(x.shape, x._strides, index)[0], []
        layout = tuple(layout)
    else:
        layout, arrays = _advanced_index(x, index)
    sources = [lazy.source(jnp.asarray(a)) for a in arrays]
    if isinstance(value, TensorCore) and value.dtype is not x.dtype:
        value = to_dtype(value, x.dtype)
    new = record(SCATTER, (x, value, *sources), x.shape, x.dtype.numpy, "CopySlices", (("layout", layout),),
                 differentiable=(True, True) + (False,) * len(sources))
    x._write(new._current_expr())


# -- copies ----------------------------------------------------------------------------------------


CONCATENATE = Op("cat", lambda *xs, dim, dtype: jnp.concatenate([x.astype(dtype) for x in xs], axis=dim))
STACK = Op("stack", lambda *xs, dim, dtype: jnp.stack([x.astype(dtype) for x in xs], axis=dim))


def cat(tensors, dim: int = 0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    reference = next((t for t in tensors if t.shape != (0,)), tensors[0])
    d = wrap_dim(dim, reference.ndim)
    for number, tensor in enumerate(tensors):
        if tensor.shape == (0,):
            continue
        if tensor.ndim != reference.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {reference.ndim} and {tensor.ndim}"
            )
        for axis, (a, b) in enumerate(zip(reference.shape, tensor.shape)):
            if axis != d and a != b:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {a} but got size {b} for tensor "
                    f"number {number} in the list."
                )
    parts = [t for t in tensors if t.shape != (0,)] or tensors[:1]
    result = dt.result_type(*[_as_dimensioned(t) for t in parts])
    shape = list(reference.shape)
    shape[d] = sum(t.shape[d] for t in parts)
    return record(CONCATENATE, tuple(parts), tuple(shape), result.numpy, "CatBackward0", (("dim", d), ("dtype", result.numpy)), saves=False)


class _Dimensioned:
    """A stand-in with ndim 1, so that cat/stack promote every input as a tensor with dims."""

    __slots__ = ("dtype", "ndim")

    def __init__(self, dtype):
        self.dtype, self.ndim = dtype, 1


def _as_dimensioned(tensor):
    return _Dimensioned(tensor.dtype)


def stack(tensors, dim: int = 0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for number, tensor in enumerate(tensors[1:], start=1):
        if tensor.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got [{', '.join(map(str, tensors[0].shape))}] at entry 0 "
                f"and [{', '.join(map(str, tensor.shape))}] at entry {number}"
            )
    d = wrap_dim(dim, tensors[0].ndim + 1)
    result = dt.result_type(*[_as_dimensioned(t) for t in tensors])
    shape = tensors[0].shape[:d] + (len(tensors),) + tensors[0].shape[d:]
    return record(STACK, tuple(tensors), shape, result.numpy, "StackBackward0", (("dim", d), ("dtype", result.numpy)), saves=False)


COPY = Op("clone", lambda x: jnp.array(x, copy=True))
CAST = Op("to", lambda x, *, dtype: x.astype(dtype))


def clone(x: TensorCore):
    return record(COPY, (x,), x.shape, x.dtype.numpy, "CloneBackward0", saves=False)


def contiguous(x: TensorCore):
    return x if views.is_contiguous(x.shape, x._strides) else clone(x)


def to_dtype(x: TensorCore, dtype: dt.dtype, copy: bool = False):
    if dtype is x.dtype and not copy:
        return x
    return record(CAST, (x,), x.shape, dtype.numpy, "ToCopyBackward0", (("dtype", dtype.numpy),), saves=False,
                  differentiable=dtype.is_floating_point or dtype.is_complex)
