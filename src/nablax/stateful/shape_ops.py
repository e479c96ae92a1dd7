"""Shape ops: views (view, reshape, permute, indexing, ...), copies (cat, stack, clone, to)
and item assignment, with PyTorch's rules for what is a view and its error messages."""

from __future__ import annotations

import math
import warnings

import jax.numpy as jnp
import numpy as np

from . import autograd, lazy, views
from . import dtypes as dt
from .core import TensorCore, check_no_partial_overlap, make_view, record
from .lazy import Op
from .math_ops import _cast
from .views import wrap_dim


def _size_args(shape) -> tuple:
    """`view(2, 3)`, `view((2, 3))` and `view(torch.Size([2, 3]))` all mean (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def view(x: TensorCore, *shape):
    if not shape:
        raise TypeError("view() received an invalid combination of arguments - got (), but expected one of:\n"
                        " * (torch.dtype dtype)\n * (tuple of ints size)\n")
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
    if not shape:
        raise TypeError('reshape() missing 1 required positional arguments: "shape"')
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
    if not dims:  # `permute(())` is fine: dims are the one argument Python requires
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
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
    a, b = wrap_dim(dim0, x.ndim), wrap_dim(dim1, x.ndim)
    dims = list(range(x.ndim))
    if dims:  # a 0-d tensor takes dims 0 and -1, and its transpose is a view of it
        dims[a], dims[b] = dims[b], dims[a]
    return permute(x, tuple(dims), grad_name="TransposeBackward0")


def t(x: TensorCore):
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return permute(x, tuple(reversed(range(x.ndim))), grad_name="TBackward0")


def numpy_t(x: TensorCore):
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


def squeeze(x: TensorCore, dim=None):
    if dim is None:
        dims = tuple(i for i, s in enumerate(x.shape) if s == 1)
        name = "SqueezeBackward0"
    else:
        dims = tuple(wrap_dim(d, x.ndim) for d in (dim if isinstance(dim, (tuple, list)) else (dim,)))
        dims = tuple(d for d in dims if x.ndim and x.shape[d] == 1)
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
    shape, strides = _expanded_shape(x.type(), x.shape, x._strides, sizes)
    return make_view(x, (("expand", shape),), shape, strides, "ExpandBackward0")


def _expanded_shape(type_name: str, own_shape: tuple, own_strides: tuple, sizes: tuple) -> tuple:
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


# -- indexing ------------------------------------------------------------------------------------


def _index_component(component):
    """A non-basic index component: ("bool", flag) for a bool scalar, ("mask", array) for a
    bool mask, ("array", int64 array) for integer positions, all on the host."""
    if isinstance(component, (bool, np.bool_)):
        return ("bool", bool(component))
    if isinstance(component, TensorCore):
        if component.dtype.is_floating_point or component.dtype.is_complex:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        array = np.asarray(component._value())
        if component.dtype is dt.uint8:
            array = array.astype(bool)
    else:
        array = np.asarray(component)
        if array.dtype != np.bool_ and not np.issubdtype(array.dtype, np.integer):
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if array.dtype == np.bool_:
        return ("bool", bool(array)) if array.ndim == 0 else ("mask", array)
    return ("array", array.astype(np.int64))


def _is_basic(component) -> bool:
    return component is None or component is Ellipsis or (
        isinstance(component, (int, np.integer, slice)) and not isinstance(component, (bool, np.bool_)))


def _as_components(index) -> tuple:
    """The index as a tuple; a 0-d integer tensor in it is an int, as PyTorch selects with it."""
    components = index if isinstance(index, tuple) else (index,)
    return tuple(int(c.item()) if isinstance(c, TensorCore) and c.ndim == 0 and c.dtype._category == 1
                 and c.dtype is not dt.uint8 else c for c in components)


def _width(component) -> int:
    """How many dims of the indexed tensor a component consumes."""
    if component is None or component is Ellipsis:
        return 0
    if isinstance(component, tuple):
        kind, value = component
        return 0 if kind == "bool" else (value.ndim if kind == "mask" else 1)
    return 1


def _advanced_index(x: TensorCore, components: tuple) -> tuple:
    """PyTorch's advanced indexing: ints, slices and None apply first, as in basic indexing;
    the index arrays (from tensors, lists, bool masks and bool scalars) then index what
    remains, the dims they make going where NumPy's rules put them. Returns the static layout
    `(basic, advanced)`, which means `x[basic][advanced]` with ("array", k) in `advanced` for
    the k-th index array, and the index arrays, checked."""
    components = [c if _is_basic(c) else _index_component(c) for c in components]
    consumed = sum(_width(c) for c in components)
    if consumed > x.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x.ndim}")
    if sum(1 for c in components if c is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    basic, advanced, arrays = [], [], []

    def index_with(array):
        advanced.append(("array", len(arrays)))
        arrays.append(np.array(array))  # a private copy: the op runs later, the caller's array may change

    dim = 0
    for component in components:
        if component is Ellipsis:
            basic += [slice(None)] * (x.ndim - consumed)
            advanced += [slice(None)] * (x.ndim - consumed)
            dim += x.ndim - consumed
        elif component is None:
            basic.append(None)
            advanced.append(slice(None))
        elif isinstance(component, slice):
            views.check_slice_step(component)
            basic.append(component)
            advanced.append(slice(None))
            dim += 1
        elif _is_basic(component):  # an int: selects, so it leaves no dim for `advanced`
            basic.append(views.check_position(int(component), x.shape[dim], dim))
            dim += 1
        elif component[0] == "bool":  # PyTorch: unsqueeze, then index the new dim with [0] or []
            basic.append(None)
            index_with(np.zeros(1 if component[1] else 0, np.int64))
        elif component[0] == "mask":
            mask = component[1]
            if mask.shape != x.shape[dim : dim + mask.ndim]:
                raise IndexError(
                    f"The shape of the mask {list(mask.shape)} at index {dim} does not match the shape of the indexed "
                    f"tensor {list(x.shape)} at index {dim}"
                )
            basic += [slice(None)] * mask.ndim
            for axis_positions in np.nonzero(mask):
                index_with(axis_positions)
            dim += mask.ndim
        else:
            array, size = component[1], x.shape[dim]
            bad = array[(array < -size) | (array >= size)]
            if bad.size:
                raise IndexError(f"index {int(bad.flat[0])} is out of bounds for dimension {dim} with size {size}")
            basic.append(slice(None))
            index_with(array)
            dim += 1
    try:
        np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        shapes = ", ".join(f"[{', '.join(map(str, a.shape))}]" for a in arrays)
        raise IndexError(f"shape mismatch: indexing tensors could not be broadcast together with shapes {shapes}") from None
    return (views.static_index(tuple(basic)), views.static_index(tuple(advanced))), arrays


def _advanced_part(advanced, arrays) -> tuple:
    return tuple(arrays[c[1]] if isinstance(c, tuple) else views.concrete_index(c) for c in advanced)


def _gather_fn(x, *arrays, layout):
    basic, advanced = layout
    return x[views.concrete_index(basic)][_advanced_part(advanced, arrays)]


GATHER = Op("index", _gather_fn)


def getitem(x: TensorCore, index):
    if x.ndim == 0 and index is not None and index is not Ellipsis and not (isinstance(index, tuple) and not index):
        if not isinstance(index, (TensorCore, bool, np.bool_)):
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    components = _as_components(index)
    if views.is_basic_index(components):
        resolved, shape, strides, name = views.basic_index(x.shape, x._strides, components,
                                                            bare_slice=isinstance(index, slice))
        return make_view(x, (("index", resolved),), shape, strides, name)
    layout, arrays = _advanced_index(x, components)
    sources = [lazy.source(jnp.asarray(a)) for a in arrays]
    shape = _shape_after(x.shape, layout, arrays)
    return record(GATHER, (x, *sources), shape, x.dtype.numpy, "IndexBackward0", (("layout", layout),),
                  differentiable=(True,) + (False,) * len(sources))


def _shape_after(shape: tuple, layout, arrays) -> tuple:
    """The shape `x[index]` has, found by indexing a zero-strided stand-in (no big allocation)."""
    stand_in = np.lib.stride_tricks.as_strided(np.zeros(1, np.int8), shape, (0,) * len(shape))
    return _gather_fn(stand_in, *arrays, layout=layout).shape


def _scatter_fn(x, value, *arrays, layout, value_shape):
    basic, advanced = layout
    basic = views.concrete_index(basic)
    value = jnp.asarray(value).astype(x.dtype)
    if value_shape is not None:  # without the leading 1s, which PyTorch ignores
        value = value.reshape(value_shape)
    if not advanced:
        return x.at[basic].set(value)
    return x.at[basic].set(x[basic].at[_advanced_part(advanced, arrays)].set(value))


SCATTER = Op("index_put", _scatter_fn)


def _selects_a_view(components: tuple, shape: tuple) -> bool:
    """Whether PyTorch indexes a view of the tensor before writing: any int, None, bool or
    slice that is not a whole dim (its error for a leaf then speaks of a view, and the
    write is a `CopySlices`)."""
    consumed = sum(_consumed_dims(c) for c in components)
    dim = 0
    for component in components:
        if component is None or isinstance(component, (bool, np.bool_, int, np.integer)):
            return True
        if isinstance(component, slice):
            if dim >= len(shape) or not views.is_whole_slice(component, shape[dim]):
                return True
        dim += len(shape) - consumed if component is Ellipsis else _consumed_dims(component)
    return False


def _consumed_dims(component) -> int:
    """How many dims of the indexed tensor an index component consumes (before checks)."""
    if component is None or component is Ellipsis or isinstance(component, (bool, np.bool_)):
        return 0
    if isinstance(component, TensorCore) and component.dtype is dt.bool_:
        return component.ndim
    if isinstance(component, np.ndarray) and component.dtype == np.bool_:
        return component.ndim
    return 1


def setitem(x: TensorCore, index, value) -> None:
    """`x[index] = value`: an in-place write (PyTorch's `CopySlices`)."""
    components = _as_components(index)
    through_view = _selects_a_view(components, x.shape)
    basic = views.is_basic_index(components)
    if basic:  # PyTorch indexes (and may raise) before it writes into the view
        resolved, target_shape, strides, _ = views.basic_index(x.shape, x._strides, components)
        layout, arrays = (resolved, ()), []
    if autograd.is_grad_enabled() and x._leaf and through_view:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    x._check_inplace()
    if basic:
        source_strides = _setitem_source_strides(value, target_shape)
        if source_strides is not None:
            check_no_partial_overlap(x, value, (("index", resolved),), strides, source_strides)
    else:
        if not through_view:  # index_put_ into the tensor itself
            check_no_partial_overlap(x, value)
        layout, arrays = _advanced_index(x, components)
    value_shape = None
    if isinstance(value, TensorCore):
        value_shape = _check_value_shape(value, _shape_after(x.shape, layout, arrays), basic=not arrays)
        if value.dtype is not x.dtype:
            value = to_dtype(value, x.dtype)
    sources = [lazy.source(jnp.asarray(a)) for a in arrays]
    # PyTorch writes through a view (CopySlices), or into the tensor itself: index_put_, or
    # where no index component selects anything, copy_ (fill_ from a 0-d tensor).
    grad_name = "CopySlices" if through_view else ("IndexPutBackward0" if arrays else
                                                   "FillBackward3" if _is_0d_tensor(value) else "CopyBackwards")
    new = record(SCATTER, (x, value, *sources), x.shape, x.dtype.numpy, grad_name,
                 (("layout", layout), ("value_shape", value_shape)), differentiable=(True, True) + (False,) * len(sources))
    x._write(new._current_expr())


def _is_0d_tensor(value) -> bool:
    return isinstance(value, TensorCore) and not value.ndim


def _setitem_source_strides(value, target_shape: tuple) -> tuple | None:
    """The strides PyTorch's `x[index] = value` reads `value` with, where it checks overlap:
    a value of the target's shape is copied as it is; a 0-d one fills (no check); another
    loses its leading 1s and is expanded, and one expanded along some dim is not checked."""
    if not isinstance(value, TensorCore) or not value.ndim:
        return None
    if tuple(value.shape) == target_shape:
        return value._strides
    lead = next((i for i, size in enumerate(value.shape) if size != 1), value.ndim)
    shape, strides = _expanded_shape(value.type(), value.shape[lead:], value._strides[lead:], target_shape)
    if any(stride == 0 and size > 1 for size, stride in zip(shape, strides)):
        return None
    return strides


def _check_value_shape(value: TensorCore, target: tuple, *, basic: bool) -> tuple:
    """The shape of the value written by `x[index] = value` without its leading 1s, checked
    as PyTorch does: as `expand` for a basic index, as `index_put_` for an advanced one."""
    shape = tuple(value.shape)
    while shape and shape[0] == 1:
        shape = shape[1:]
    if basic:
        _expanded_shape(value.type(), shape, shape, target)
    elif len(shape) > len(target) or any(s not in (1, t) for s, t in zip(reversed(shape), reversed(target))):
        raise RuntimeError(
            f"shape mismatch: value tensor of shape [{', '.join(map(str, value.shape))}] cannot be broadcast to indexing "
            f"result of shape [{', '.join(map(str, target))}]"
        )
    return shape


# -- copies ----------------------------------------------------------------------------------------


CONCATENATE = Op("cat", lambda *xs, dim, dtype: jnp.concatenate([x.astype(dtype) for x in xs], axis=dim))
STACK = Op("stack", lambda *xs, dim, dtype: jnp.stack([x.astype(dtype) for x in xs], axis=dim))


def cat(tensors, dim: int = 0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for number, tensor in enumerate(tensors):
        if tensor.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {number}) cannot be concatenated")
    reference = next((t for t in tensors if t.shape != (0,)), None)
    if reference is None:  # only legacy empty tensors: PyTorch checks no dim
        reference, d = tensors[0], 0
    else:
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
    result = dt.result_type(*[_as_dimensioned(t) for t in tensors])  # skipped empty tensors still promote
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
    d = wrap_dim(dim, tensors[0].ndim + 1)
    for number, tensor in enumerate(tensors[1:], start=1):
        if tensor.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got [{', '.join(map(str, tensors[0].shape))}] at entry 0 "
                f"and [{', '.join(map(str, tensor.shape))}] at entry {number}"
            )
    result = dt.result_type(*[_as_dimensioned(t) for t in tensors])
    shape = tensors[0].shape[:d] + (len(tensors),) + tensors[0].shape[d:]
    return record(STACK, tuple(tensors), shape, result.numpy, "StackBackward0", (("dim", d), ("dtype", result.numpy)), saves=False)


COPY = Op("clone", lambda x: jnp.array(x, copy=True))
CAST = Op("to", lambda x, *, dtype: _cast(x, dtype))


OVERWRITE = Op("overwrite", lambda old, new: jnp.broadcast_to(new, old.shape).astype(old.dtype), saves=False)


def overwrite(x: TensorCore, value, grad_name: str):
    """`value` (broadcast, cast) as the new value of `x`, in one node that takes `x` too:
    PyTorch's fills and copies keep `x`'s `requires_grad`, its old value getting a zero
    gradient."""
    return record(OVERWRITE, (x, value), x.shape, x.dtype.numpy, grad_name,
                  differentiable=x.dtype.is_floating_point or x.dtype.is_complex)


def clone(x: TensorCore):
    return record(COPY, (x,), x.shape, x.dtype.numpy, "CloneBackward0", saves=False)


def contiguous(x: TensorCore):
    return x if views.is_contiguous(x.shape, x._strides) else clone(x)


def to_dtype(x: TensorCore, dtype: dt.dtype, copy: bool = False):
    if dtype is x.dtype and not copy:
        return x
    return record(CAST, (x,), x.shape, dtype.numpy, "ToCopyBackward0", (("dtype", dtype.numpy),), saves=False,
                  differentiable=dtype.is_floating_point or dtype.is_complex)
