"""Seeing compiles: why a program was built, and where the user's code asked for it.

A loop that builds a new program every iteration is slow, and the cause is rarely visible
in the code: a Python number that ends up in the program instead of being passed to it, a
shape that changes, a pending graph one op deeper than last time. With explaining on
(`nablax.stateful.explain_compiles()`, or `NABLAX_EXPLAIN_COMPILES=1` in the environment),
the cache reports each program it builds and each new set of input shapes a program is
compiled for, with the cause found by comparing the plan with the ones already built, and
the line of user code that asked.
"""

from __future__ import annotations

import os
import pathlib
import sys
from collections import Counter

import jax

from .plan import Plan

_PACKAGE = str(pathlib.Path(__file__).resolve().parents[2])  # .../nablax
_LIBRARIES = (_PACKAGE, str(pathlib.Path(jax.__file__).resolve().parent), "<frozen ")


class _Explaining:
    enabled = os.environ.get("NABLAX_EXPLAIN_COMPILES", "") not in ("", "0", "false", "off")
    report = None  # where reports go: a callable taking a line (stderr by default)


EXPLAINING = _Explaining()


def _ops(plan: Plan) -> tuple[str, ...]:
    nodes = plan.prelude + (plan.body.nodes if plan.body is not None else ())
    return tuple(op.name for op, _, _ in nodes)


def _differ(value, other) -> bool:
    """Whether two static arguments differ. (Some values refuse to be compared as one bool,
    such as a JAX tree structure with a value of another type: those differ.)"""
    try:
        return bool(value != other)
    except (TypeError, ValueError):  # (an array's comparison is ambiguous as one bool)
        return True


def _first_difference(plan: Plan, other: Plan) -> str:
    """How `plan` differs from `other`, a plan of the same ops: the first static argument."""
    nodes = plan.prelude + (plan.body.nodes if plan.body is not None else ())
    others = other.prelude + (other.body.nodes if other.body is not None else ())
    for index, ((op, static, _), (_, other_static, _)) in enumerate(zip(nodes, others)):
        ours, theirs = dict(static), dict(other_static)
        names = [name for name in {**ours, **theirs} if _differ(ours.get(name), theirs.get(name))]
        if names:
            name = names[0]
            return (f"op {index} ({op.name}) has another static argument {name}={ours.get(name)!r} "
                    f"(was {theirs.get(name)!r}): a Python value built into the program")
    return "the same ops wired differently"


def cause(plan: Plan, known) -> str:
    """Why `plan` needs a program of its own, given the plans `known` already built."""
    ops = _ops(plan)
    if not known:
        return "the first program"
    same_ops = [other for other in known if _ops(other) == ops]
    if same_ops:
        return _first_difference(plan, same_ops[-1])
    counts = Counter(ops)
    for other in reversed(list(known)):
        theirs = Counter(_ops(other))
        if sum(theirs.values()) < len(ops) and not theirs - counts:
            return (f"{len(ops)} ops where an earlier program had {sum(theirs.values())}: work left pending from "
                    f"before ({', '.join(sorted((counts - theirs).elements()))}) joined this one")
        if sum(theirs.values()) > len(ops) and not counts - theirs:
            return (f"the same ops as an earlier program but for {', '.join(sorted((theirs - counts).elements()))}, "
                    "work left pending from before that the earlier one computed")
    return "a new sequence of ops"


def user_line() -> str:
    """`file:line in function` of the innermost frame outside nablax, JAX and Python's import machinery."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_LIBRARIES):
            return f"{filename}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back
    return "(no user code on the stack)"


def describe(plan: Plan) -> str:
    ops = _ops(plan)
    shown = ", ".join(ops[:8]) + (", ..." if len(ops) > 8 else "")
    kind = "a backward pass" if plan.body is not None else "values"
    return f"{kind}, {len(ops)} ops: {shown}"


def report(line: str) -> None:
    (EXPLAINING.report or (lambda text: print(text, file=sys.stderr, flush=True)))(f"nablax: {line}")
