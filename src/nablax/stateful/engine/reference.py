"""The reference interpreter: the recorded graphs evaluated op by op, with no plan, no
compilation and no cache, and differentiated by one `jax.vjp` of that evaluation.

It is slow and meant to be obviously correct: the tests and the fuzzer run programs under
it (`with interpreting(): ...`) as a second oracle beside PyTorch, so that a difference
tells an engine bug (plans, programs, the cache) from a wrong op.

    >>> import nablax.stateful as torch
    >>> from nablax.stateful.engine import reference
    >>> with reference.interpreting():
    ...     x = torch.tensor([1.0, 2.0], requires_grad=True)
    ...     (x * x).sum().backward()
    ...     print(x.grad)
    tensor([2., 4.])
"""

from __future__ import annotations

import contextlib
import threading

import jax
import jax.numpy as jnp

from .arguments import device_value
from .graph import VAR, Expr, settle


class _Interpreting(threading.local):
    active = False


INTERPRETING = _Interpreting()


@contextlib.contextmanager
def interpreting():
    """Inside, values and gradients are computed by this interpreter instead of programs."""
    previous, INTERPRETING.active = INTERPRETING.active, True
    try:
        yield
    finally:
        INTERPRETING.active = previous


def _order(root: Expr, stop) -> list[Expr]:
    """`root` and the nodes below it that are not known, inputs first (iteratively)."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        expr, expanded = stack.pop()
        if expanded:
            order.append(expr)
        elif id(expr) not in seen:
            seen.add(id(expr))
            stack.append((expr, True))
            if not stop(expr):
                stack.extend((source, False) for source in expr.inputs)
    return order


def evaluate(root: Expr, substitutes=None, added=None):
    """The value of `root`: each node's op applied to its inputs' values. `substitutes` maps
    id(node) to a value used instead of the node's; `added` maps id(node) to a value added
    to the node's. With substitutes (differentiating), a node that requires grad is
    computed again even if its value is known, and values along edges that gradients do not
    flow through are constants (`stop_gradient`), as in a backward pass."""
    differentiating = substitutes is not None
    substitutes, added = substitutes or {}, added or {}

    def known(expr: Expr) -> bool:
        return expr.op is None or (expr.value is not None and not (differentiating and expr.requires_grad))

    values = {}
    for expr in _order(root, lambda e: id(e) in substitutes or known(e)):
        if id(expr) in substitutes:
            value = substitutes[id(expr)]
        elif known(expr):
            value = device_value(expr)  # (as a program sees it)
        else:
            inputs = [values[id(source)] if edge else jax.lax.stop_gradient(values[id(source)])
                      for source, edge in zip(expr.inputs, expr.grad_edges)]
            value = expr.op.fn(*inputs, **dict(expr.static))
        if id(expr) in added:
            value = value + added[id(expr)]
        values[id(expr)] = value
    return values[id(root)]


def realize(*targets: Expr) -> None:
    for expr in targets:
        if expr.value is None:
            settle(expr, evaluate(expr))


def gradients(root: Expr, variables: list[Expr], cotangent: Expr | None, groups, old_gradients) -> tuple:
    """What `BackwardPass.run` computes: for each group of `variables` (VAR nodes, or
    non-leaf nodes whose gradient is wanted), the sum of d root / d variable over the group,
    added to its old gradient."""
    is_leaf = [expr.op is VAR for expr in variables]
    starts = [evaluate(expr.inputs[0]) if leaf else jnp.zeros(expr.shape, expr.dtype)
              for expr, leaf in zip(variables, is_leaf)]

    def forward(*values):
        # A leaf's variable replaces its node's value; a probe's (zeros) is added to its node's.
        substitutes = {id(expr): value for expr, value, leaf in zip(variables, values, is_leaf) if leaf}
        added = {id(expr): value for expr, value, leaf in zip(variables, values, is_leaf) if not leaf}
        return evaluate(root, substitutes, added)

    value, pullback = jax.vjp(forward, *starts)
    seed = jnp.ones_like(value) if cotangent is None else jnp.asarray(evaluate(cotangent)).astype(value.dtype)
    grads = pullback(seed)
    results = []
    for group, old in zip(groups, old_gradients):
        total = sum((grads[index] for index in group[1:]), grads[group[0]])
        if old is not None:
            total = evaluate(old) + total
        results.append(jnp.where(total == 0, jnp.zeros((), total.dtype), total))
    if root.value is None and root.op is not VAR:
        root.value = value
    return tuple(results)
