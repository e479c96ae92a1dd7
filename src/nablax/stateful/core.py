"""The core of a stateful tensor: its storage, its current expr, and how ops record.

A `Storage` holds the value of a base tensor: a lazy expr, or a NumPy buffer once shared
with NumPy (`.numpy()`, `from_numpy`). A tensor is a storage seen through view steps, plus
its autograd role: a leaf that requires grad enters graphs through a `VAR` node, an alias
made by `detach()`/`.data` through a `DETACH` node. In-place ops are functionalised: they
compute a new value and write it into the storage (scattering through the view steps),
so every alias sees the change, as in PyTorch.
"""

from __future__ import annotations

import functools
import weakref

import jax
import numpy as np

from . import autograd, lazy, views
from . import dtypes as dt
from .device import device as Device
from .lazy import Expr

TENSOR_CLASS = None  # set by tensor.py: the class `record` returns
CPU = Device("cpu")


class Storage:
    """The shared value behind a tensor and its views."""

    __slots__ = ("expr", "version", "numpy", "device", "__weakref__")

    def __init__(self, expr: Expr | None, device: Device = CPU, numpy_buffer: np.ndarray | None = None):
        self.expr = expr
        self.version = 0
        self.numpy = numpy_buffer
        self.device = device
        if device.type != "cpu":
            _devices_in_use[0] = True
        if expr is not None:
            expr.owner = weakref.ref(self)

    def read(self) -> Expr:
        """The current value as an expr. A NumPy buffer may have been changed behind our back,
        so it is copied at every read: later ops see the values of the moment. The copy stays a
        NumPy array (a host copy costs a microsecond, a device array ten): the program that
        uses it moves it to the device with its other arguments."""
        if self.numpy is not None and self.expr is None:
            return lazy.source(self.numpy.copy())
        return self.expr

    def write(self, expr: Expr) -> None:
        self.version += 1
        if self.numpy is not None:
            np.copyto(self.numpy, np.asarray(lazy.value_of(expr)), casting="unsafe")
            if not expr.requires_grad:
                self.expr = None
                return
        self.expr = expr
        expr.owner = weakref.ref(self)

    def share_with_numpy(self) -> np.ndarray:
        """Makes a writable host buffer the storage from now on, and returns it."""
        if self.numpy is None:
            self.numpy = np.array(lazy.value_of(self.expr))
            if not self.expr.requires_grad:
                self.expr = None
            # else the expr stays, with its graph: `y.detach().numpy()` must not cut `y` off
            # from backward. The buffer then mirrors the value; writes keep both in step.
        return self.numpy


class TensorCore:
    """State and mechanics shared by every tensor; the user-facing methods are in tensor.py."""

    __slots__ = ("_storage", "_steps", "_stride_cache", "_base", "_expr", "_seen", "_leaf", "_detached", "_no_grad_view",
                 "_view", "grad", "__weakref__")

    @property
    def _strides(self) -> tuple:
        """PyTorch's strides (in elements); computed on first use for a fresh tensor."""
        strides = self._stride_cache
        if strides is None:
            strides = self._stride_cache = views.contiguous_strides(self._current_expr().shape)
        return strides

    @_strides.setter
    def _strides(self, strides: tuple) -> None:
        self._stride_cache = strides

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def _from_expr(cls, expr: Expr, device: Device = CPU) -> TensorCore:
        tensor = object.__new__(cls)
        tensor._storage = Storage(expr, device)
        tensor._steps = ()
        tensor._stride_cache = None
        tensor._base = None
        tensor._expr = expr
        tensor._seen = 0
        tensor._leaf = False
        tensor._detached = False
        tensor._no_grad_view = False
        tensor._view = False  # made by a view op (`detach()` aliases share storage but are not views)
        tensor.grad = None
        return tensor

    @classmethod
    def _on_storage(cls, storage: Storage, steps: tuple = (), strides: tuple | None = None, base=None, *,
                    expr: Expr | None = None, detached: bool = False) -> TensorCore:
        """A tensor seeing `storage` through view `steps` (the whole of it by default); with
        no `expr`, its expr is built from the storage on first use."""
        tensor = object.__new__(cls)
        tensor._storage = storage
        tensor._steps = steps
        tensor._stride_cache = strides
        tensor._base = base
        tensor._expr = expr
        tensor._seen = -1 if expr is None else storage.version
        tensor._leaf = False
        tensor._detached = detached
        tensor._no_grad_view = False
        tensor._view = False
        tensor.grad = None
        return tensor

    def _alias(self, *, detached: bool, cls=None) -> TensorCore:
        """A tensor sharing this one's storage and view (`detach()`, `.data`, `Parameter`)."""
        return (cls or TENSOR_CLASS)._on_storage(self._storage, self._steps, self._strides, self._base, detached=detached)

    # -- the current value ------------------------------------------------------------------

    def _current_expr(self) -> Expr:
        storage = self._storage
        if self._seen == storage.version and (storage.numpy is None or storage.expr is not None) and (
                not self._no_grad_view or self._base._current_expr().requires_grad == self._expr.requires_grad):
            # (A view taken under no_grad requires grad while its base does: PyTorch asks the
            # base each time, so its `detach_()` or `requires_grad_()` show through.)
            return self._expr
        if self._steps:  # a view: the base's current value (with its autograd role) seen through the steps
            source = self._base._current_expr()
            expr = _view_expr(source, self._steps, "AsStridedBackward0", source.requires_grad and not self._no_grad_view)
            expr.owner = weakref.ref(self)
            if self._no_grad_view and source.requires_grad:
                expr = lazy.dead_end(expr)
        else:
            expr = storage.read()
        if self._leaf:
            expr = lazy.variable(expr, self)
        elif self._detached and expr.requires_grad:
            expr = lazy.detached(expr)
        self._expr = expr
        self._seen = storage.version
        return expr

    def _value(self) -> jax.Array:
        """The computed value (a JAX array)."""
        return lazy.value_of(self._current_expr())

    # -- in-place writes ----------------------------------------------------------------------

    def _check_inplace(self) -> None:
        if autograd.is_grad_enabled():
            if self._leaf:
                raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
            if self._no_grad_view and self._current_expr().requires_grad:
                raise RuntimeError(
                    "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given that "
                    "this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both "
                    "the view and the inplace either both inside the no_grad block (if you don't want the inplace to be "
                    "tracked) or both outside (if you want the inplace to be tracked).")
            if self._base is not None and self._base._leaf:
                raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")

    def _write(self, new: Expr, *, fill: bool = False) -> None:
        """Makes `new` (this tensor's shape and dtype) this tensor's value, in place. A
        `fill` writes one value everywhere, which PyTorch allows into an expanded view."""
        storage = self._storage
        own_history = None
        if new.requires_grad and not self._leaf:
            if self._detached and not self._steps:
                # A `detach()` alias takes the history for itself: other tensors on the storage
                # see the new values only, as in PyTorch, where the alias is a tensor of its own.
                own_history, new = new, lazy.detached(new)
            else:
                self._detached = False  # a view of an alias joins the graph
        if self._steps:
            if not fill and views.writes_overlap(_shape_of_storage(storage), self._steps):
                raise RuntimeError(
                    "unsupported operation: more than one element of the written-to tensor refers to a single memory "
                    "location. Please clone() the tensor before performing the operation."
                )
            new = _copy_slices(storage.read(), new, self._steps)
        old = storage.read()
        if old is not None and old.requires_grad and not new.requires_grad:  # a write autograd does not record
            new = lazy.with_history(old, new)
        storage.write(new)
        if own_history is not None:
            self._expr, self._seen = own_history, storage.version
        else:
            self._seen = -1  # the next read rebuilds this tensor's expr from the storage


# -- recording ops ---------------------------------------------------------------------------


def record(op: lazy.Op, operands, shape: tuple, dtype, grad_name: str, static=(), *, saves: bool = True, differentiable=True):
    """Records `op` applied to `operands` (tensors, exprs or Python scalars) and returns the
    result tensor. `shape`/`dtype` (a NumPy dtype) describe the result; `grad_name` is
    PyTorch's name of its backward node. `differentiable` may be a tuple of flags, one per
    operand."""
    expr, device = record_expr(op, operands, shape, dtype, grad_name, static, saves=saves, differentiable=differentiable)
    return TENSOR_CLASS._from_expr(expr, device)


def record_expr(op: lazy.Op, operands, shape, dtype, grad_name, static=(), *, saves=True, differentiable=True):
    """`record` without making a tensor: the expr and its device (for multi-output ops)."""
    exprs: list[Expr] = []
    edges: list[bool] = []
    grad_mode = autograd._MODE.enabled
    for operand in operands:  # (inline: this runs for every operand of every op)
        if isinstance(operand, TensorCore):
            expr = operand._current_expr()
        elif isinstance(operand, Expr):  # an intermediate without a tensor of its own (a multi-output op)
            expr = operand
        else:  # a Python scalar
            exprs.append(lazy.source(operand))
            edges.append(False)
            continue
        exprs.append(expr)
        edges.append(grad_mode and expr.requires_grad)
    if differentiable is not True:  # False, or one flag per operand (missing flags mean False)
        flags = tuple(differentiable) if differentiable else ()
        edges = [edge and index < len(flags) and flags[index] for index, edge in enumerate(edges)]
    device = _common_device(operands) if _devices_in_use[0] else CPU
    expr = Expr(op, static, tuple(exprs), tuple(edges), shape, dtype, any(edges), grad_name, saves)
    if expr.depth > lazy.MAX_PENDING_DEPTH:
        lazy.realize(expr)
    return expr, device


class _DtypeProxy:
    """What `dtypes.result_type` needs to know of a tensor operand."""

    __slots__ = ("dtype", "ndim")

    def __init__(self, dtype, ndim):
        self.dtype, self.ndim = dtype, ndim


_SCALAR_KINDS = {bool: True, int: 1, float: 1.0, complex: 1j}
_PROMOTIONS: dict = {}


def _kind(operand, expr):
    """A hashable summary of an operand for type promotion: (dtype, zero-dim) or a scalar type."""
    if expr is not None:
        return (expr.dtype, not expr.shape)
    kind = type(operand)
    if kind in _SCALAR_KINDS:
        return kind
    if isinstance(operand, (np.bool_, bool)):
        return bool
    if isinstance(operand, np.integer):
        return int
    if isinstance(operand, np.floating):
        return float
    if isinstance(operand, (complex, np.complexfloating)):
        return complex
    raise TypeError(f"unsupported operand type: {type(operand).__name__}")


def promote(kind_a, kind_b):
    """PyTorch's result dtype (a NumPy dtype) for operands summarised by `_kind` (cached)."""
    result = _PROMOTIONS.get((kind_a, kind_b))
    if result is None:
        proxies = [_SCALAR_KINDS[k] if not isinstance(k, tuple) else _DtypeProxy(dt.from_numpy(k[0]), 0 if k[1] else 1)
                   for k in (kind_a, kind_b)]
        result = _PROMOTIONS[(kind_a, kind_b)] = dt.result_type(*proxies).numpy
    return result


def reset_promotions() -> None:
    """Forgets cached promotions (the default float dtype changed)."""
    _PROMOTIONS.clear()


def record_binary(op: lazy.Op, a, b, grad_name, result=None, compute=None, broadcast=None):
    """The fast path of `record` for two operands, one or both tensors: promotes dtypes as
    PyTorch does (`compute` is the dtype the op computes in, `result` its output dtype;
    both default to the promoted dtype) and broadcasts shapes with `broadcast`."""
    a_is_tensor = isinstance(a, TensorCore)
    b_is_tensor = isinstance(b, TensorCore)
    ea = a._current_expr() if a_is_tensor else lazy.source(a)
    eb = b._current_expr() if b_is_tensor else lazy.source(b)
    if compute is None:
        if a_is_tensor and b_is_tensor and ea.dtype is eb.dtype:  # the usual case: nothing to promote
            compute = ea.dtype
        else:
            compute = promote(_kind(a, ea if a_is_tensor else None), _kind(b, eb if b_is_tensor else None))
    if result is None:
        result = compute
    shape_a, shape_b = ea.shape, eb.shape
    shape = shape_a if shape_a == shape_b or not shape_b else (shape_b if not shape_a else broadcast(shape_a, shape_b))
    grad_mode = autograd._MODE.enabled
    edge_a = grad_mode and ea.requires_grad
    edge_b = grad_mode and eb.requires_grad
    device = CPU
    if _devices_in_use[0]:
        device = _common_device((a, b))
    expr = Expr(op, _dtype_static(compute), (ea, eb), (edge_a, edge_b), shape, result, edge_a or edge_b, grad_name, op.saves)
    if expr.depth > lazy.MAX_PENDING_DEPTH:
        lazy.realize(expr)
    return TENSOR_CLASS._from_expr(expr, device)


_DTYPE_STATICS: dict = {}


def _dtype_static(dtype):
    static = _DTYPE_STATICS.get(dtype)
    if static is None:
        static = _DTYPE_STATICS[dtype] = (("dtype", dtype),)
    return static


# Whether any tensor has ever left the CPU: until then, device checks are skipped.
_devices_in_use = [False]


def note_device(device: Device) -> None:
    if device.type != "cpu":
        _devices_in_use[0] = True


def _common_device(operands) -> Device:
    devices = {o._storage.device for o in operands if isinstance(o, TensorCore) and o._current_expr().shape}
    if len(devices) > 1:
        names = sorted(str(d) for d in devices)
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, {names[0]} and {names[1]}!")
    return devices.pop() if devices else next((o._storage.device for o in operands if isinstance(o, TensorCore)), CPU)


@functools.lru_cache(maxsize=4096)
def _inferred(op: lazy.Op, static, avals) -> tuple:
    out = jax.eval_shape(functools.partial(op.fn, **dict(static)), *avals)
    return out.shape, out.dtype


def infer(op: lazy.Op, operands, static=()) -> tuple:
    """The result (shape, NumPy dtype) of `op` on `operands`, from JAX's shape rules (cached)."""
    avals = tuple(
        jax.ShapeDtypeStruct(o.shape, o.dtype.numpy) if isinstance(o, TensorCore) else o for o in operands
    )
    return _inferred(op, static, avals)


# -- views -------------------------------------------------------------------------------------


def _apply_view(value, *, steps):
    return views.apply_steps(value, steps)


VIEW = lazy.Op("view", _apply_view)


def _view_expr(base: Expr, steps, grad_name: str, grad: bool) -> Expr:
    shape = views.apply_steps(np.lib.stride_tricks.as_strided(np.zeros(1, np.int8), base.shape, (0,) * len(base.shape)), steps).shape
    return Expr(VIEW, (("steps", steps),), (base,), (grad,), shape, base.dtype, grad, grad_name, saves=False)


def make_view(tensor: TensorCore, steps: tuple, shape: tuple, strides: tuple, grad_name: str) -> TensorCore:
    """A view of `tensor` through more `steps`, sharing its storage."""
    source = tensor._current_expr()
    grad = autograd.is_grad_enabled() and source.requires_grad
    expr = Expr(VIEW, (("steps", steps),), (source,), (grad,), shape, source.dtype, grad, grad_name, saves=False)
    base = tensor._base if tensor._base is not None else tensor
    # PyTorch: a view taken under no_grad of a tensor that requires grad still requires grad
    # (as a leaf that gradients never reach), and so do views of it.
    no_grad_view = tensor._no_grad_view or (source.requires_grad and not grad)
    view = TENSOR_CLASS._on_storage(tensor._storage, tensor._steps + steps, strides, base,
                                    expr=lazy.dead_end(expr) if source.requires_grad and not grad else expr,
                                    detached=tensor._detached and not grad)
    view._no_grad_view = no_grad_view
    view._view = True
    expr.owner = weakref.ref(view)
    return view


def _shape_of_storage(storage: Storage) -> tuple:
    return storage.numpy.shape if storage.numpy is not None else storage.expr.shape


_PARTIAL_OVERLAP = ("unsupported operation: some elements of the input tensor and the written-to tensor refer to a "
                    "single memory location. Please clone() the tensor before performing the operation.")


def _memory_range(tensor: TensorCore, steps: tuple, strides: tuple):
    """(first, end, strides) of the storage elements a view of `tensor` through `steps` (more)
    covers, or None where PyTorch does not compare: it has no elements, or they overlap or
    leave gaps (not "non-overlapping and dense")."""
    steps = tensor._steps + steps
    if not steps:
        size = int(np.prod(_shape_of_storage(tensor._storage)))
        return (0, size, strides) if size else None
    positions = views.positions(_shape_of_storage(tensor._storage), steps).reshape(-1)
    if not positions.size:
        return None
    first, end = int(positions.min()), int(positions.max()) + 1
    if end - first != positions.size or len(np.unique(positions)) != positions.size:
        return None
    return first, end, strides


def check_no_partial_overlap(written: TensorCore, source, steps: tuple = (), strides: tuple | None = None,
                             source_strides: tuple | None = None) -> None:
    """PyTorch's refusal of an in-place op that reads `source` (seen with `source_strides`)
    while writing `written` (seen through `steps`, with `strides`) when the two share some
    memory but are not the same elements in the same order (`x.add_(x)` is fine)."""
    if not isinstance(source, TensorCore) or source._storage is not written._storage:
        return
    ours = _memory_range(written, steps, written._strides if strides is None else strides)
    theirs = _memory_range(source, (), source._strides if source_strides is None else source_strides)
    if ours is None or theirs is None or ours == theirs:
        return
    if ours[0] < theirs[1] and theirs[0] < ours[1]:
        raise RuntimeError(_PARTIAL_OVERLAP)


def _copy_slices_fn(base, new, *, steps):
    flat_positions = views.positions(base.shape, steps).reshape(-1)
    updated = base.reshape(-1).at[flat_positions].set(new.reshape(-1).astype(base.dtype))
    return updated.reshape(base.shape)


COPY_SLICES = lazy.Op("copy_slices", _copy_slices_fn)


def _copy_slices(base: Expr, new: Expr, steps) -> Expr:
    grad_mode = autograd.is_grad_enabled()
    edges = (grad_mode and base.requires_grad, grad_mode and new.requires_grad)
    return Expr(COPY_SLICES, (("steps", steps),), (base, new), edges, base.shape, base.dtype, any(edges), "CopySlices")


def dtype_of(expr: Expr) -> dt.dtype:
    return dt.from_numpy(expr.dtype)
