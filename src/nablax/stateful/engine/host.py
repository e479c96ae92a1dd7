"""Small graphs on the host: a fenced specialisation of `realize`.

Compiling a program costs tens of milliseconds; NumPy runs a small elementwise op in a
microsecond. A learner's loop over single elements (`N[i, j] += 1`, `s[i].item()`) or the
first few values of a script would spend its time compiling. So where every pending node
behind the values asked for has a NumPy twin (`Op.host`, given only where NumPy computes
the same bits as XLA: views, writes, fills, casts, exact arithmetic and comparisons), no
value computed is larger than `HOST_ELEMENTS`, and JAX computes on the CPU, the graph is
evaluated here instead, op by op, with no program at all.
"""

from __future__ import annotations

import math

import jax
import numpy as np

from .graph import DETACH, SELECT, VAR, Expr, is_computed_output, settle, settle_output

HOST_ELEMENTS = 1 << 16  # the most elements of any value computed on the host

_ON_CPU: list = [None]  # whether JAX computes on the CPU (asked on first use)
EVALUATIONS = [0]  # graphs evaluated here: what tests count


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


def _host(value):
    """A known value as NumPy sees it (a Python number stays one)."""
    return np.asarray(value) if isinstance(value, jax.Array) else value


def evaluate(targets) -> bool:
    """Computes `targets` (pending exprs) on the host if they qualify (see the module
    docstring); whether it did."""
    on_cpu = _ON_CPU[0]
    if on_cpu is None:
        on_cpu = _ON_CPU[0] = jax.default_backend() == "cpu"
    if not on_cpu:
        return False
    order = _pending(targets)
    if order is None:
        return False
    with np.errstate(all="ignore"):  # (NumPy warns where XLA quietly gives inf or nan)
        for expr in order:
            settle(expr, expr.op.host(*[_host(source.value) for source in expr.inputs], **dict(expr.static)))
    EVALUATIONS[0] += 1
    return True


def identity(value, **_):
    return value


# The engine's own ops run here as they are.
for _op in (VAR, DETACH):
    _op.host = identity
SELECT.host = SELECT.fn
