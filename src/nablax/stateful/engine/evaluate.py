"""Computing pending values: the pending graph behind them becomes one program."""

from __future__ import annotations

import jax

from . import cache, host, reference
from .graph import Expr, settle, strip
from .plan import PlanBuilder, make_plan


def realize(*targets: Expr) -> None:
    """Computes the values of `targets` (and of every pending node with a live owner on the
    way) in one compiled program."""
    pending = [expr for expr in targets if expr.value is None]
    if not pending:
        return
    if reference.INTERPRETING.active:
        return reference.realize(*pending)
    if host.evaluate(pending):
        return
    builder = PlanBuilder()
    refs = [builder.number(expr) for expr in pending]
    live, live_refs = builder.live_outputs(skip={id(expr) for expr in pending})
    if not builder.prelude.nodes:  # every value was known already (outputs of a computed multi-output op)
        return
    plan = make_plan((tuple(builder.prelude.nodes), None, (*refs, *live_refs)))
    values = cache.PROGRAMS.run(plan, builder.args)
    for expr, value in zip(pending + live, values):
        settle(expr, value)
    builder.settle_selections()


def value_of(expr: Expr) -> jax.Array:
    """The value of `expr`, computing it if pending."""
    expr = strip(expr)
    if expr.value is None:
        realize(expr)
    return expr.value
