"""Recording ops: a tensor op becomes an `Expr` of the engine and a new `Tensor`, with
PyTorch's type promotion and device checks.

`record` is the general form; `record_binary` the fast path of two operands that every
arithmetic operator takes (its promotion is cached per pair of operand kinds).
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from . import dtypes as dt
from . import engine
from .device import CPU, DEVICES_IN_USE
from .device import device as Device
from .engine import MODE, SELECT, Expr, Op
from .storage import Storage
from .tensor import Tensor


def record(op: Op, operands, shape: tuple, dtype, grad_name: str | None, static=(), *, differentiable=True) -> Tensor:
    """Records `op` applied to `operands` (tensors, exprs or Python scalars) and returns the
    result tensor. `shape`/`dtype` (a NumPy dtype) describe the result; `grad_name` is
    PyTorch's name of its backward node. `differentiable` may be a tuple of flags, one per
    operand."""
    expr, device = record_expr(op, operands, shape, dtype, grad_name, static, differentiable=differentiable)
    return Tensor._on_storage(Storage(expr, device), expr)  # (`Tensor._from_expr`, one call less: every op ends here)


def record_expr(op: Op, operands, shape, dtype, grad_name, static=(), *, differentiable=True) -> tuple[Expr, Device]:
    """`record` without making a tensor: the expr and its device (for multi-output ops)."""
    exprs: list[Expr] = []
    edges: list[bool] = []
    grad_mode = MODE.enabled
    for operand in operands:  # (inline: this runs for every operand of every op)
        if isinstance(operand, Tensor):
            expr = operand._current_expr()
        elif isinstance(operand, Expr):  # an intermediate without a tensor of its own (a multi-output op)
            expr = operand
        else:  # a Python scalar
            exprs.append(engine.source(operand))
            edges.append(False)
            continue
        exprs.append(expr)
        edges.append(grad_mode and expr.requires_grad)
    if differentiable is not True:  # False, or one flag per operand (missing flags mean False)
        flags = tuple(differentiable) if differentiable else ()
        edges = [edge and index < len(flags) and flags[index] for index, edge in enumerate(edges)]
    device = _common_device(operands) if DEVICES_IN_USE[0] else CPU
    expr = Expr(op, static, tuple(exprs), tuple(edges), shape, dtype, any(edges), grad_name)
    if expr.depth > engine.MAX_PENDING_DEPTH:
        engine.realize(expr)
    return expr, device


class _DtypeProxy:
    """What `dtypes.result_type` needs to know of a tensor operand."""

    __slots__ = ("dtype", "ndim")

    def __init__(self, dtype, ndim):
        self.dtype, self.ndim = dtype, ndim


_SCALAR_KINDS = {bool: True, int: 1, float: 1.0, complex: 1j}
_PROMOTIONS: dict = {}


def kind_of(operand, expr):
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


def output(node: Expr, index: int, shape, dtype, grad: bool, grad_name: str | None) -> Expr:
    """Output `index` of the multi-output node `node` recorded by `record_expr` (with a
    gradient edge where `grad`)."""
    return Expr(SELECT, (("index", index),), (node,), (grad,), tuple(shape), dtype, grad, grad_name)


def record_binary(op: Op, a, b, grad_name, result=None, compute=None, broadcast=None) -> Tensor:
    """The fast path of `record` for two operands, one or both tensors: promotes dtypes as
    PyTorch does (`compute` is the dtype the op computes in, `result` its output dtype;
    both default to the promoted dtype) and broadcasts shapes with `broadcast`."""
    a_is_tensor = isinstance(a, Tensor)
    b_is_tensor = isinstance(b, Tensor)
    ea = a._current_expr() if a_is_tensor else engine.source(a)
    eb = b._current_expr() if b_is_tensor else engine.source(b)
    if compute is None:
        if a_is_tensor and b_is_tensor and ea.dtype is eb.dtype:  # the usual case: nothing to promote
            compute = ea.dtype
        else:
            compute = promote(kind_of(a, ea if a_is_tensor else None), kind_of(b, eb if b_is_tensor else None))
    if result is None:
        result = compute
    shape_a, shape_b = ea.shape, eb.shape
    shape = shape_a if shape_a == shape_b or not shape_b else (shape_b if not shape_a else broadcast(shape_a, shape_b))
    grad_mode = MODE.enabled
    edge_a = grad_mode and ea.requires_grad
    edge_b = grad_mode and eb.requires_grad
    device = CPU
    if DEVICES_IN_USE[0]:
        device = _common_device((a, b))
    expr = Expr(op, _dtype_static(compute), (ea, eb), (edge_a, edge_b), shape, result, edge_a or edge_b, grad_name)
    if expr.depth > engine.MAX_PENDING_DEPTH:
        engine.realize(expr)
    return Tensor._on_storage(Storage(expr, device), expr)  # (`Tensor._from_expr`, one call less: every op ends here)


_DTYPE_STATICS: dict = {}


def _dtype_static(dtype):
    static = _DTYPE_STATICS.get(dtype)
    if static is None:
        static = _DTYPE_STATICS[dtype] = (("dtype", dtype),)
    return static


def _common_device(operands) -> Device:
    devices = {o._storage.device for o in operands if isinstance(o, Tensor) and o._current_expr().shape}
    if len(devices) > 1:
        names = sorted(str(d) for d in devices)
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, {names[0]} and {names[1]}!")
    return devices.pop() if devices else next((o._storage.device for o in operands if isinstance(o, Tensor)), CPU)


@functools.lru_cache(maxsize=4096)
def _inferred(op: Op, static, avals) -> tuple:
    out = jax.eval_shape(functools.partial(op.fn, **dict(static)), *avals)
    return out.shape, out.dtype


def infer(op: Op, operands, static=()) -> tuple:
    """The result (shape, NumPy dtype) of `op` on `operands`, from JAX's shape rules (cached)."""
    avals = tuple(
        jax.ShapeDtypeStruct(o.shape, o.dtype.numpy) if isinstance(o, Tensor) else o for o in operands
    )
    return _inferred(op, static, avals)
