"""Indexing: `x[index]` (a view for basic indices, a gather for advanced ones) and
`x[index] = value`, with PyTorch's rules and error messages."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .. import dtypes as dt
from .. import engine, views
from ..engine import Op
from ..recording import record
from ..storage import COPY_SLICES
from ..tensor import Tensor
from . import elements
from .copies import to_dtype
from .inplace import check_no_partial_overlap, same_elements
from .shape import expanded_shape




def _index_component(component):
    """A non-basic index component: ("bool", flag) for a bool scalar, ("mask", array) for a
    bool mask, ("array", int64 array) for integer positions, all on the host."""
    if isinstance(component, (bool, np.bool_)):
        return ("bool", bool(component))
    if isinstance(component, Tensor):
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
    return tuple(int(c.item()) if isinstance(c, Tensor) and c.ndim == 0 and c.dtype._category == 1
                 and c.dtype is not dt.uint8 else c for c in components)


def _width(component) -> int:
    """How many dims of the indexed tensor a component consumes."""
    if component is None or component is Ellipsis:
        return 0
    if isinstance(component, tuple):
        kind, value = component
        return 0 if kind == "bool" else (value.ndim if kind == "mask" else 1)
    return 1


def _advanced_index(x: Tensor, components: tuple) -> tuple:
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
        else:
            kept, positions, width = _index_arrays(component, x.shape, dim)
            basic += kept
            for array in positions:
                advanced.append(("array", len(arrays)))
                arrays.append(np.array(array))  # a private copy: the op runs later, the caller's array may change
            dim += width
    try:
        np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        shapes = ", ".join(f"[{', '.join(map(str, a.shape))}]" for a in arrays)
        raise IndexError(f"shape mismatch: indexing tensors could not be broadcast together with shapes {shapes}") from None
    return (views.static_index(tuple(basic)), views.static_index(tuple(advanced))), arrays


def _index_arrays(component: tuple, shape: tuple, dim: int) -> tuple[list, list, int]:
    """For a non-basic component at `dim`: what it leaves in the basic index, its index
    arrays (checked) and how many dims it consumes."""
    kind, value = component
    if kind == "bool":  # PyTorch: unsqueeze, then index the new dim with [0] or []
        return [None], [np.zeros(1 if value else 0, np.int64)], 0
    if kind == "mask":
        if value.shape != shape[dim : dim + value.ndim]:
            raise IndexError(
                f"The shape of the mask {list(value.shape)} at index {dim} does not match the shape of the indexed "
                f"tensor {list(shape)} at index {dim}"
            )
        return [slice(None)] * value.ndim, list(np.nonzero(value)), value.ndim
    size = shape[dim]
    bad = value[(value < -size) | (value >= size)]
    if bad.size:
        raise IndexError(f"index {int(bad.flat[0])} is out of bounds for dimension {dim} with size {size}")
    return [slice(None)], [value], 1


def _advanced_part(advanced, arrays) -> tuple:
    return tuple(arrays[c[1]] if isinstance(c, tuple) else views.concrete_index(c) for c in advanced)


def _gather_fn(x, *arrays, layout):
    basic, advanced = layout
    return x[views.concrete_index(basic)][_advanced_part(advanced, arrays)]


GATHER = Op("index", _gather_fn, host=_gather_fn)  # (NumPy indexes as JAX does)


def getitem(x: Tensor, index):
    if type(index) is int or (type(index) is tuple and index and all(type(c) is int for c in index)):
        view = _element_view(x, index)
        if view is not None:
            return view
    if x.ndim == 0 and index is not None and index is not Ellipsis and not (isinstance(index, tuple) and not index):
        if not isinstance(index, (Tensor, bool, np.bool_)):
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    components = _as_components(index)
    if views.is_basic_index(components):
        resolved, shape, strides, name = views.basic_index(x.shape, x._strides, components,
                                                            bare_slice=isinstance(index, slice))
        return x._view_of((("index", resolved),), shape, strides, name)
    layout, arrays = _advanced_index(x, components)
    sources = [engine.source(engine.on_device(a)) for a in arrays]
    shape = _shape_after(x.shape, layout, arrays)
    return record(GATHER, (x, *sources), shape, x.dtype.numpy, "IndexBackward0", (("layout", layout),),
                  differentiable=(True,) + (False,) * len(sources))


def _element_view(x: Tensor, index) -> Tensor | None:
    """`x[i]` or `x[i, j, ...]` with Python ints: what loops over elements do, element by
    element, so it skips the general resolution of `views.basic_index` (same checks, same
    view). None where the general path has an error to raise."""
    positions = (index,) if type(index) is int else index
    shape = x._shape
    if not shape or len(positions) > len(shape):
        return None
    if len(positions) == 1:
        resolved = (views.check_position(index if type(index) is int else index[0], shape[0], 0) % shape[0],)
    else:
        resolved = tuple([views.check_position(p, size, dim) % size for dim, (p, size) in enumerate(zip(positions, shape))])
    strides = x._strides
    return x._view_of((("index", resolved),), shape[len(resolved):], strides[len(resolved):], "SelectBackward0")


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
    if isinstance(component, Tensor) and component.dtype is dt.bool_:
        return component.ndim
    if isinstance(component, np.ndarray) and component.dtype == np.bool_:
        return component.ndim
    return 1


def setitem(x: Tensor, index, value) -> None:
    """`x[index] = value`: an in-place write (PyTorch's `CopySlices`)."""
    if (type(index) is int or (type(index) is tuple and all(type(c) is int for c in index))) and (
            elements.writes_onto_itself(x, index, value)):  # Python's write back after `x[i, j] += 1`
        return
    components = _as_components(index)
    through_view = _selects_a_view(components, x.shape)
    basic = views.is_basic_index(components)
    if basic:  # PyTorch indexes (and may raise) before it writes into the view
        resolved, target_shape, strides, _ = views.basic_index(x.shape, x._strides, components)
        layout, arrays = (resolved, ()), []
    if engine.is_grad_enabled() and x._leaf and through_view:
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
    if isinstance(value, Tensor):
        value_shape = _check_value_shape(value, _shape_after(x.shape, layout, arrays), basic=not arrays)
        if value.dtype is not x.dtype:
            value = to_dtype(value, x.dtype)
    _write_at(x, value, basic, through_view, layout, arrays, value_shape)


def _write_at(x: Tensor, value, basic: bool, through_view: bool, layout, arrays, value_shape) -> None:
    """`setitem`'s write, its checks done: through a view of `x` (a `basic` index), or a scatter."""
    # PyTorch writes through a view (CopySlices), or into the tensor itself: index_put_, or
    # where no index component selects anything, copy_ (fill_ from a 0-d tensor).
    grad_name = "CopySlices" if through_view else ("IndexPutBackward0" if arrays else
                                                   "FillBackward3" if _is_0d_tensor(value) else "CopyBackwards")
    if basic:  # a write through a view, its positions arguments of the program (see views.split_positions)
        steps = (("index", layout[0]),)
        static, positions = views.split_positions(steps)
        new = record(COPY_SLICES, (x, value, *positions), x.shape, x.dtype.numpy, grad_name, (("steps", static),),
                     differentiable=(True, True))
        x._write(new._current_expr(), fill=same_elements(x, value, steps))  # (allowed into an expanded view: see `same_elements`)
        return
    sources = [engine.source(engine.on_device(a)) for a in arrays]
    new = record(SCATTER, (x, value, *sources), x.shape, x.dtype.numpy, grad_name,
                 (("layout", layout), ("value_shape", value_shape)), differentiable=(True, True))
    x._write(new._current_expr())


def _is_0d_tensor(value) -> bool:
    return isinstance(value, Tensor) and not value.ndim


def _setitem_source_strides(value, target_shape: tuple) -> tuple | None:
    """The strides PyTorch's `x[index] = value` reads `value` with, where it checks overlap:
    a value of the target's shape is copied as it is; a 0-d one fills (no check); another
    loses its leading 1s and is expanded, and one expanded along some dim is not checked."""
    if not isinstance(value, Tensor) or not value.ndim:
        return None
    if tuple(value.shape) == target_shape:
        return value._strides
    lead = next((i for i, size in enumerate(value.shape) if size != 1), value.ndim)
    shape, strides = expanded_shape(value.type(), value.shape[lead:], value._strides[lead:], target_shape)
    if any(stride == 0 and size > 1 for size, stride in zip(shape, strides)):
        return None
    return strides


def _check_value_shape(value: Tensor, target: tuple, *, basic: bool) -> tuple:
    """The shape of the value written by `x[index] = value` without its leading 1s, checked
    as PyTorch does: as `expand` for a basic index, as `index_put_` for an advanced one."""
    shape = tuple(value.shape)
    while shape and shape[0] == 1:
        shape = shape[1:]
    if basic:
        expanded_shape(value.type(), shape, shape, target)
    elif len(shape) > len(target) or any(s not in (1, t) for s, t in zip(reversed(shape), reversed(target))):
        raise RuntimeError(
            f"shape mismatch: value tensor of shape [{', '.join(map(str, value.shape))}] cannot be broadcast to indexing "
            f"result of shape [{', '.join(map(str, target))}]"
        )
    return shape
