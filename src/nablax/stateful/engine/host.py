"""Small graphs on the host: a fenced specialisation of `realize`.

Compiling a program costs tens of milliseconds; NumPy runs a small elementwise op in a
microsecond. A learner's loop over single elements (`N[i, j] += 1`, `s[i].item()`) or the
first few values of a script would spend its time compiling. So where every pending node
behind the values asked for has a NumPy twin (`Op.host`, given only where NumPy computes
the same bits as XLA: views, writes, fills, casts, exact arithmetic and comparisons), no
value computed is larger than `HOST_ELEMENTS`, and every known value it reads is on the
host (NumPy, a Python number, or a JAX array on the CPU), the graph is evaluated here
instead, op by op, with no program at all (and without starting JAX's backends).
"""

from __future__ import annotations

import math

import jax
import numpy as np

from .graph import DETACH, SELECT, VAR, Expr, is_computed_output, settle, settle_output

HOST_ELEMENTS = 1 << 16  # the most elements of any value computed on the host
EVALUATIONS = [0]  # graphs evaluated here: what tests count


class _NotOnTheHost(Exception):
    """A known value lives on an accelerator (copying it here would cost more than a program)
    or is traced (inside a program being built: it has no value yet)."""


def _pending(targets) -> list[Expr] | None:
    """The pending nodes behind `targets`, inputs first; None where one cannot run here."""
    order, seen, stack = [], set(), [(expr, False) for expr in targets]
    while stack:
        expr, expanded = stack.pop()
        if expanded:
            order.append(expr)
            continue
        if id(expr) in seen or expr.value is not None:
            continue
        seen.add(id(expr))
        if is_computed_output(expr):
            settle_output(expr)
            continue
        op = expr.op
        if op.host is None or expr.dtype is None or math.prod(expr.shape) > HOST_ELEMENTS:
            return None
        stack.append((expr, True))
        stack.extend((source, False) for source in expr.inputs)
    return order


def _host(expr: Expr, values: dict):
    """An input's value as NumPy sees it: computed here, or known (a Python number stays one)."""
    value = values.get(id(expr), expr.value)
    if isinstance(value, jax.Array):
        if isinstance(value, jax.core.Tracer) or any(device.platform != "cpu" for device in value.devices()):
            raise _NotOnTheHost
        return np.asarray(value)
    return value


def evaluate(targets) -> bool:
    """Computes `targets` (pending exprs) on the host if they qualify (see the module
    docstring); whether it did."""
    order = _pending(targets)
    if order is None:
        return False
    values: dict[int, object] = {}
    try:
        with np.errstate(all="ignore"):  # (NumPy warns where XLA quietly gives inf or nan)
            for expr in order:
                values[id(expr)] = expr.op.host(*[_host(source, values) for source in expr.inputs], **dict(expr.static))
    except _NotOnTheHost:
        return False
    for expr in order:
        settle(expr, values[id(expr)])
    EVALUATIONS[0] += 1
    return True


def values_on_host(targets) -> list[np.ndarray] | None:
    """The values of `targets` as NumPy arrays, the pending ones computed here (see
    `evaluate`); None where one cannot be had without a program or a copy from an accelerator."""
    pending = [expr for expr in targets if expr.value is None]
    if pending and not evaluate(pending):
        return None
    try:
        return [np.asarray(_host(expr, {})) for expr in targets]
    except _NotOnTheHost:
        return None


def identity(value, **_):
    return value


# The engine's own ops run here as they are.
for _op in (VAR, DETACH):
    _op.host = identity
SELECT.host = SELECT.fn
