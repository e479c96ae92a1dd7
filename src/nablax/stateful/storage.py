"""The storage behind tensors and their views: a lazy value, or a NumPy buffer shared with
NumPy, seen through view steps, and written through them.

A tensor is a `Storage` seen through view steps (views.py: reshape, permute, basic indexing,
expand). Views and aliases share the storage; an in-place op computes the new value and
writes it into the storage, scattering through the view's steps (`copy_slices`), so every
tensor on the storage sees the change, as in PyTorch.
"""

from __future__ import annotations

import weakref

import jax
import jax.numpy as jnp
import numpy as np

from . import engine, views
from .device import CPU, note_device
from .device import device as Device
from .engine import Expr, Op


class Storage:
    """The shared value behind a tensor and its views."""

    __slots__ = ("expr", "version", "numpy", "device", "_host_view", "__weakref__")

    def __init__(self, expr: Expr | None, device: Device = CPU, numpy_buffer: np.ndarray | None = None):
        self.expr = expr
        self.version = 0
        self.numpy = numpy_buffer
        self.device = device
        self._host_view = (None, None)  # (expr, its value as a NumPy array): see host_value
        if device is not CPU:
            note_device(device)
        if expr is not None:
            expr.owner = weakref.ref(self)

    @property
    def shape(self) -> tuple:
        return self.numpy.shape if self.numpy is not None else self.expr.shape

    def read(self) -> Expr:
        """The current value as an expr. A NumPy buffer may have been changed behind our back,
        so it is copied at every read: later ops see the values of the moment. The copy stays a
        NumPy array (a host copy costs a microsecond, a device array ten): the program that
        uses it moves it to the device with its other arguments."""
        if self.numpy is not None and self.expr is None:
            return engine.source(self.numpy.copy())
        return self.expr

    def write(self, expr: Expr) -> None:
        self.version += 1
        if self.numpy is not None:
            np.copyto(self.numpy, np.asarray(engine.value_of(expr)), casting="unsafe")
            if not expr.requires_grad:
                self.expr = None
                return
        self.expr = expr
        expr.owner = weakref.ref(self)

    def host_value(self) -> np.ndarray | None:
        """The current value as a NumPy array, if it is known (computed, or a NumPy buffer);
        None while it is pending, or traced (inside a program being built). (For the CPU, a
        view of JAX's buffer: no copy.)"""
        if self.numpy is not None:
            return self.numpy
        expr, array = self._host_view
        if expr is not self.expr:  # (NumPy's view of the value is made once per value)
            value = engine.strip(self.expr).value
            if value is None or isinstance(value, jax.core.Tracer):
                return None
            array = np.asarray(value)
            self._host_view = (self.expr, array)
        return array

    def share_with_numpy(self) -> np.ndarray:
        """Makes a writable host buffer the storage from now on, and returns it."""
        if self.numpy is None:
            self.numpy = np.array(engine.value_of(self.expr))
            if not self.expr.requires_grad:
                self.expr = None
            # else the expr stays, with its graph: `y.detach().numpy()` must not cut `y` off
            # from backward. The buffer then mirrors the value; writes keep both in step.
        return self.numpy

    def memory_range(self, steps: tuple, strides: tuple):
        """(first, end, strides) of the storage elements a view through `steps` covers, or
        None where PyTorch does not compare: it has no elements, or they overlap or leave
        gaps (not "non-overlapping and dense")."""
        if not steps:
            size = int(np.prod(self.shape))
            return (0, size, strides) if size else None
        positions = views.positions(self.shape, steps).reshape(-1)
        if not positions.size:
            return None
        first, end = int(positions.min()), int(positions.max()) + 1
        if end - first != positions.size or len(np.unique(positions)) != positions.size:
            return None
        return first, end, strides


# -- views and writes through them ----------------------------------------------------------


# View steps enter programs with their positions (ints, slice starts) as arguments
# (views.split_positions): one program serves every position.


def _apply_view(value, *positions, steps):
    return views.apply_steps(value, steps, positions)


VIEW = Op("view", _apply_view, saves=False, host=_apply_view)  # (views.apply_steps takes NumPy arrays too)


def _positions(steps) -> tuple[tuple, tuple[Expr, ...], tuple[bool, ...]]:
    static, positions = views.split_positions(steps)
    return static, tuple(engine.source(p) for p in positions), (False,) * len(positions)


def view_expr(base: Expr, steps, grad_name: str, grad: bool, shape: tuple | None = None) -> Expr:
    """`base` seen through view `steps` (its shape found from the steps unless given)."""
    if shape is None:
        stand_in = np.lib.stride_tricks.as_strided(np.zeros(1, np.int8), base.shape, (0,) * len(base.shape))
        shape = views.apply_steps(stand_in, steps).shape
    static, positions, edges = _positions(steps)
    return Expr(VIEW, (("steps", static),), (base, *positions), (grad, *edges), shape, base.dtype, grad, grad_name)


def _copy_slices_fn(base, new, *positions, steps):
    flat_positions = views.positions(base.shape, steps, positions)
    new = jnp.asarray(new)
    while new.ndim > flat_positions.ndim and new.shape[0] == 1:  # leading 1s, which PyTorch ignores
        new = new[0]
    new = jnp.broadcast_to(new, flat_positions.shape).reshape(-1).astype(base.dtype)
    return base.reshape(-1).at[flat_positions.reshape(-1)].set(new).reshape(base.shape)


def _copy_slices_on_host(base, new, *positions, steps):
    flat_positions = views.positions(base.shape, steps, positions)
    new = np.asarray(new)
    while new.ndim > flat_positions.ndim and new.shape[0] == 1:
        new = new[0]
    written = np.array(base, copy=True).reshape(-1)
    written[flat_positions.reshape(-1)] = np.broadcast_to(new, flat_positions.shape).reshape(-1)
    return written.reshape(base.shape)


COPY_SLICES = Op("copy_slices", _copy_slices_fn, host=_copy_slices_on_host)


def copy_slices(base: Expr, new: Expr, steps, grad_name: str = "CopySlices") -> Expr:
    """`base` with `new` (broadcast) written into the elements a view through `steps` sees."""
    grad_mode = engine.is_grad_enabled()
    edges = (grad_mode and base.requires_grad, grad_mode and new.requires_grad)
    static, positions, position_edges = _positions(steps)
    return Expr(COPY_SLICES, (("steps", static),), (base, new, *positions), (*edges, *position_edges), base.shape,
                base.dtype, any(edges), grad_name)
