"""Views: tensors that share their storage with another tensor, as in PyTorch.

A view is its storage's value seen through a chain of steps (reshape, permute, basic
indexing, expand, the windows of `unfold`). The steps work on NumPy and JAX arrays alike, so a view's value is
`apply_steps(storage value, steps)` and writing through a view scatters into the storage.
Strides are tracked as metadata only, to give PyTorch's answers to `is_contiguous()`,
`stride()` and which `view()` calls are allowed.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np


def wrap_dim(dim: int, ndim: int) -> int:
    """`dim` as a non-negative axis, with PyTorch's error when it is out of range."""
    bound = max(ndim, 1)
    if not -bound <= dim < bound:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-bound}, {bound - 1}], but got {dim})")
    return dim + bound if dim < 0 else dim


def contiguous_strides(shape: tuple) -> tuple:
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


def is_contiguous(shape: tuple, strides: tuple) -> bool:
    expected = 1
    for size, stride in zip(reversed(shape), reversed(strides)):
        if size == 1:
            continue
        if size == 0:
            return True
        if stride != expected:
            return False
        expected *= size
    return True


def infer_shape(shape, numel: int) -> tuple:
    """`shape` with its -1 (if any) replaced so that it has `numel` elements."""
    shape = tuple(int(s) for s in shape)
    inferred = [i for i, s in enumerate(shape) if s == -1]
    if len(inferred) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in shape:
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    known = math.prod(s for s in shape if s != -1)
    if inferred:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '[{', '.join(map(str, shape))}]' is invalid for input of size {numel}")
        shape = shape[: inferred[0]] + (numel // known,) + shape[inferred[0] + 1 :]
    elif known != numel:
        raise RuntimeError(f"shape '[{', '.join(map(str, shape))}]' is invalid for input of size {numel}")
    return shape


def view_strides(old_shape: tuple, old_strides: tuple, new_shape: tuple) -> tuple | None:
    """The strides of `new_shape` as a view of a tensor laid out as `old_shape`/`old_strides`,
    or None when no view can express it (PyTorch's `computeStride`)."""
    if not old_shape:
        return (1,) * len(new_shape)
    numel = math.prod(old_shape)
    if numel == 0:
        return tuple(old_strides) if tuple(old_shape) == tuple(new_shape) else contiguous_strides(new_shape)
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base_stride = old_strides[-1]
    tensor_numel = view_numel = 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        chunk_ends = tensor_d == 0 or (
            old_shape[tensor_d - 1] != 1 and old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride
        )
        if chunk_ends:
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = old_strides[tensor_d - 1]
                tensor_numel = view_numel = 1
    return tuple(new_strides) if view_d == -1 else None


# ---------------------------------------------------------------------------------------
# Steps: ("reshape", shape), ("permute", dims), ("index", basic index), ("expand", shape),
# ("windows", (dim, size, step)): `unfold`'s windows along `dim` as a new last dim.


def apply_step(array, step, positions=None):
    """`array` seen through one step; an index step with dynamic components takes their
    positions from the iterator `positions`."""
    kind, argument = step
    if kind == "reshape":
        return array.reshape(argument)
    if kind == "permute":
        return array.transpose(argument)
    if kind == "index":
        return _index(array, argument, positions)
    if kind == "expand":
        return (np if isinstance(array, np.ndarray) else jnp).broadcast_to(array, argument)
    if kind == "windows":
        return _windows(array, *argument)
    raise ValueError(f"unknown view step {kind}")


def _windows(array, dim: int, size: int, step: int):
    """The windows of `size` elements, `step` apart, along `dim`: that dim counts them and a
    new last dim holds each one (windows overlap where `step < size`)."""
    count = (array.shape[dim] - size) // step + 1 if array.ndim else 1
    if not array.ndim:  # a 0-d tensor is its one window of one element
        return array.reshape(1)
    xp = np if isinstance(array, np.ndarray) else jnp
    places = (np.arange(count)[:, None] * step + np.arange(size)[None, :]).reshape(-1)
    taken = xp.take(array, places, axis=dim).reshape(array.shape[:dim] + (count, size) + array.shape[dim + 1 :])
    return xp.moveaxis(taken, dim + 1, -1)


def apply_steps(array, steps, positions=()):
    """`array` (NumPy or JAX) seen through `steps`; `positions` are the values of their
    dynamic components, in order (see `split_positions`)."""
    positions = iter(positions)
    for step in steps:
        array = apply_step(array, step, positions)
    return array


def positions(base_shape: tuple, steps, dynamic=()):
    """For each element of the view, its flat position in the base: how writes scatter back.
    NumPy for concrete steps; JAX where dynamic positions are traced."""
    numpy = all(isinstance(p, (int, np.integer)) for p in dynamic)
    xp = np if numpy else jnp
    return apply_steps(xp.arange(math.prod(base_shape)).reshape(base_shape), steps, dynamic)


def writes_overlap(base_shape: tuple, steps) -> bool:
    """Whether several elements of the view are one element of the base (an expanded view)."""
    flat = positions(base_shape, steps).reshape(-1)
    return len(np.unique(flat)) != len(flat)


# ---------------------------------------------------------------------------------------
# Dynamic positions: an index step's ints and slice starts are arguments of the programs
# that use the view, not parts of their cache keys, so that `x[i]` for every `i` (or each
# minibatch `x[start:start + 64]`) runs one program rather than compiling one per value.


class DynamicSlice:
    """A slice whose start is an argument: only its length and step are static."""

    __slots__ = ("length", "step")

    def __init__(self, length: int, step: int):
        self.length, self.step = length, step

    def __eq__(self, other) -> bool:
        return isinstance(other, DynamicSlice) and (self.length, self.step) == (other.length, other.step)

    def __hash__(self) -> int:
        return hash((DynamicSlice, self.length, self.step))

    def __repr__(self) -> str:
        return f"DynamicSlice({self.length}, {self.step})"


class _Selected:
    """An int position given as an argument."""

    def __repr__(self) -> str:
        return "SELECTED"


SELECTED = _Selected()


def split_positions(steps) -> tuple[tuple, tuple]:
    """`steps` with the ints and the slice starts (other than 0) of their index steps taken
    out, and those positions: what a program may take as arguments."""
    static, found = [], []
    for kind, argument in steps:
        if kind == "index":
            argument = tuple(_taken_out(component, found) for component in argument)
        static.append((kind, argument))
    return tuple(static), tuple(found)


def _taken_out(component, found: list):
    if isinstance(component, int):
        found.append(component)
        return SELECTED
    if isinstance(component, StaticSlice) and component.start:
        found.append(component.start)
        return DynamicSlice(len(range(component.start, component.stop, component.step)), component.step)
    return component


def _index(array, components, positions):
    """`array[components]`, with each SELECTED or DynamicSlice at the next of `positions`."""
    if isinstance(array, np.ndarray) or not any(c is SELECTED or isinstance(c, DynamicSlice) for c in components):
        # (a trailing `...` keeps NumPy's result a 0-d view of one element, not a copied scalar)
        if all(type(c) is int for c in components):  # one element, as loops over elements read them
            return array[components + (...,)]
        return array[(*(_concrete(c, positions) for c in components), ...)]
    axis = 0
    for component in components:
        if component is None:
            array = jnp.expand_dims(array, axis)
            axis += 1
        elif component is SELECTED:
            array = jax.lax.dynamic_index_in_dim(array, next(positions), axis, keepdims=False)
        elif isinstance(component, DynamicSlice):
            span = (component.length - 1) * component.step + 1 if component.length else 0
            array = jax.lax.dynamic_slice_in_dim(array, next(positions), span, axis)
            array = jax.lax.slice_in_dim(array, 0, span, component.step, axis)
            axis += 1
        else:
            array = jax.lax.slice_in_dim(array, component.start, component.stop, component.step, axis)
            axis += 1
    return array


def _concrete(component, positions):
    """An index component as NumPy and JAX take it, its position (if dynamic) next in `positions`."""
    kind = type(component)
    if kind is StaticSlice:
        return slice(component.start, component.stop, component.step)
    if component is SELECTED:
        return int(next(positions))
    if kind is DynamicSlice:
        start = int(next(positions))
        return slice(start, start + component.length * component.step, component.step)
    return component


# ---------------------------------------------------------------------------------------
# Basic indexing: ints, slices, None and Ellipsis give views.


class StaticSlice:
    """A slice that can be hashed. View steps and index layouts are static arguments of
    compiled programs, hence parts of program cache keys, and slices are not hashable
    before Python 3.12."""

    __slots__ = ("start", "stop", "step")

    def __init__(self, start, stop, step):
        self.start, self.stop, self.step = start, stop, step

    def __eq__(self, other) -> bool:
        return isinstance(other, StaticSlice) and (self.start, self.stop, self.step) == (other.start, other.stop, other.step)

    def __hash__(self) -> int:
        return hash((StaticSlice, self.start, self.stop, self.step))

    def __repr__(self) -> str:
        return f"StaticSlice({self.start}, {self.stop}, {self.step})"


def _map_slices(component, convert):
    """`component` (an index component, or a tuple of them) with `convert` applied to each."""
    if isinstance(component, tuple):
        return tuple(_map_slices(c, convert) for c in component)
    return convert(component)


def static_index(component):
    """An index component with its slices (if any) made hashable."""
    return _map_slices(component, lambda c: StaticSlice(c.start, c.stop, c.step) if isinstance(c, slice) else c)


def concrete_index(component):
    """The inverse of `static_index`: what NumPy and JAX index with."""
    return _map_slices(component, lambda c: slice(c.start, c.stop, c.step) if isinstance(c, StaticSlice) else c)


def is_basic_index(index) -> bool:
    """Whether `index` has only ints, slices, None and Ellipsis (bools index like masks)."""
    components = index if isinstance(index, tuple) else (index,)
    return all(c is None or c is Ellipsis or (isinstance(c, (int, np.integer, slice)) and not isinstance(c, (bool, np.bool_)))
               for c in components)


def is_whole_slice(component: slice, size: int) -> bool:
    """Whether a slice keeps a whole dim as written (PyTorch then skips it: `0:5` of a dim of
    size 3 is skipped, `-5:` is not)."""
    return (component.start in (None, 0) and (component.stop is None or component.stop >= size)
            and component.step in (None, 1))


def check_slice_step(component: slice) -> None:
    if component.step is not None and component.step <= 0:
        raise ValueError("slice step cannot be zero" if component.step == 0 else "step must be greater than zero")


def check_position(position: int, size: int, dim: int) -> int:
    """An int index, checked against the size of the dim it selects from."""
    if not -size <= position < size:
        raise IndexError(f"index {position} is out of bounds for dimension {dim} with size {size}")
    return position


def basic_index(shape: tuple, strides: tuple, index, *, bare_slice: bool = False):
    """Resolves a basic index on a tensor: returns (normalised index, new shape, new
    strides, grad_fn name), with PyTorch's errors. PyTorch skips slices that keep a whole
    dim (as written: `-5:` is not skipped), except a `bare_slice` (an index that is one
    slice, not a tuple)."""
    components = index if isinstance(index, tuple) else (index,)
    consumed = sum(1 for c in components if c is not None and c is not Ellipsis)
    if consumed > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    if sum(1 for c in components if c is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    expanded = []
    for component in components:
        if component is Ellipsis:
            expanded.extend([slice(None)] * (len(shape) - consumed))
        else:
            expanded.append(component)
    resolved, new_shape, new_strides = [], [], []
    name = "AliasBackward0"
    dim = 0
    for component in expanded:
        if component is None:
            new_stride = strides[dim] * shape[dim] if dim < len(shape) else 1
            resolved.append(None)
            new_shape.append(1)
            new_strides.append(new_stride)
            name = "UnsqueezeBackward0"
            continue
        size = shape[dim]
        if isinstance(component, slice):
            check_slice_step(component)
            start, stop, step = component.indices(size)
            length = len(range(start, stop, step))
            resolved.append(StaticSlice(start, start + length * step if length else start, step))
            new_shape.append(length)
            new_strides.append(strides[dim] * step)
            if bare_slice or not is_whole_slice(component, size):
                name = "SliceBackward0"
        else:
            position = check_position(int(component), size, dim)
            resolved.append(position + size if position < 0 else position)
            name = "SelectBackward0"
        dim += 1
    new_shape.extend(shape[dim:])
    new_strides.extend(strides[dim:])
    return tuple(resolved), tuple(new_shape), tuple(new_strides), name
