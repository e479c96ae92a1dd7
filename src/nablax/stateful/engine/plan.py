"""Plans: a pending graph flattened into a hashable description of the program that
computes it, by one walk over the graph.

A plan has two sections. The *prelude* computes values without differentiation: pending
values that a program needs, and everything a backward pass needs that gradients do not
flow through. The *body* is the function a backward pass differentiates: the nodes on
gradient paths from the root down to the leaf variables, recomputed inside one `jax.vjp`.
The walk is told, at each edge, whether it is differentiated: along a gradient edge it
numbers the input into the body, otherwise into the prelude.

Nodes refer to their inputs by `Ref`s: the index-th known value passed in (`ARG`), prelude
node, body node or variable. The plan is the cache key of its compiled program, so it is
hashed and compared on every run: a ref is an interned int (ints hash fast, and interned
ones compare by identity) with its kind in the two low bits, and a plan node is a plain
tuple. The walk takes refs from `_INTERNED` by index, with no call.
"""

from __future__ import annotations

import enum
import functools
import itertools
from typing import Any, NamedTuple

import jax.numpy as jnp

from .arguments import CONVERTED, program_argument
from .graph import DETACH, SELECT, VAR, Expr, Op, is_computed_output, is_live, settle_output
from .graph import source as known_value


class Kind(enum.IntEnum):
    """Where a ref points: a program argument, a prelude node, a body node or a variable."""

    ARG = 0
    PRELUDE = 1
    BODY = 2
    VARIABLE = 3


class Ref(int):
    """A value in a program: `Ref.of(kind, index)`, read back as `.kind` and `.index`.

    Refs are interned: the same ref is the same object, so comparing two plans compares
    their refs by identity, as fast as small ints."""

    __slots__ = ()

    @staticmethod
    def of(kind: Kind, index: int) -> Ref:
        return _INTERNED[kind][index]

    @property
    def kind(self) -> Kind:
        return Kind(self & 3)

    @property
    def index(self) -> int:
        return self >> 2

    def __repr__(self) -> str:
        return f"{Kind(self & 3).name.lower()}[{self >> 2}]"


class _Interned(dict):
    """The refs of one kind by index, each made on first use."""

    __slots__ = ("kind",)

    def __init__(self, kind: Kind):
        super().__init__()
        self.kind = kind

    def __missing__(self, index: int) -> Ref:
        ref = self[index] = int.__new__(Ref, index << 2 | self.kind)
        return ref


_INTERNED = tuple(_Interned(kind) for kind in Kind)
_ARGS, _PRELUDE, _BODY, _VARIABLES = _INTERNED
_NEVER = itertools.repeat(False)  # the edges of a node outside differentiation: none is differentiated
_NO_PROBES = frozenset()  # (shared: most backward passes want none)

# A plan node: (op, static, input refs). A plain tuple: plans are built on every run.
PlanNode = tuple  # tuple[Op, tuple, tuple[Ref, ...]]


class Body(NamedTuple):
    """The differentiated function of a backward pass and what to do with its gradients."""

    nodes: tuple[PlanNode, ...]
    variables: tuple[Ref, ...]  # refs (in the prelude) of the variables' values
    root: Ref  # the value differentiated
    cotangent: Ref | None  # the output's gradient (None: ones)
    outputs: tuple[Ref, ...]  # body values that live tensors hold
    gradients: tuple[tuple[tuple[int, ...], Ref | None], ...]  # per result: the variables summed, the old gradient


class Plan(NamedTuple):
    """What a program computes (its cache key): the prelude, the body of a backward pass
    (None for a plain evaluation) and the refs of the values it returns."""

    prelude: tuple[PlanNode, ...]
    body: Body | None
    outputs: tuple[Ref, ...]


# A plan is made on every run: `make_plan((prelude, body, outputs))` makes one from a tuple in C,
# without the Python function that is a NamedTuple's `__new__` (and `make_body` a body).
make_plan = functools.partial(tuple.__new__, Plan)
make_body = functools.partial(tuple.__new__, Body)


class _Section:
    """The nodes of one section of a plan, in order (inputs before the nodes using them)."""

    __slots__ = ("nodes", "exprs", "refs", "interned")

    def __init__(self, interned: _Interned):
        self.interned = interned  # the section's refs by index
        self.nodes: list[PlanNode] = []
        self.exprs: list[Expr | None] = []  # the node's expr (None for a probe's addition)
        self.refs: dict[int, Ref] = {}  # id(expr) -> ref

    def add(self, op: Op, static, inputs: tuple, expr: Expr | None) -> Ref:
        """Appends a node; its ref."""
        ref = self.interned[len(self.nodes)]
        self.nodes.append((op, static, inputs))
        self.exprs.append(expr)
        return ref


_ADD = Op("add", lambda a, b: a + b)
_ZEROS = Op("zeros", lambda *, shape, dtype: jnp.zeros(shape, dtype))


class PlanBuilder:
    """Numbers the exprs a program needs into a plan: one walk over the graph."""

    __slots__ = ("args", "inputs", "prelude", "body", "variables", "probes", "selections")

    def __init__(self, probes=()):
        self.args: list[Any] = []  # the known values the program is called with
        self.inputs: dict[int, Expr] = {}  # the arguments that are `input`s: their exprs by index
        self.prelude = _Section(_PRELUDE)
        self.body = _Section(_BODY)
        self.variables: list[Expr] = []  # leaf variables (VAR nodes) and probes, as the body reaches them
        self.probes = frozenset(map(id, probes)) if probes else _NO_PROBES  # non-leaf nodes whose gradient is wanted
        self.selections: list[Expr] = []

    def number(self, expr: Expr, differentiate: bool = False) -> Ref:
        """The ref of `expr`'s value, numbering it and every pending expr it needs; along
        the way, a `differentiate`d node's inputs go to the body where gradients flow to
        them and to the prelude elsewhere. (Recursion is safe in the prelude: records run
        any pending graph deeper than MAX_PENDING_DEPTH, and known values end the walk;
        `number_root` takes care of deep bodies.)"""
        ref = (self.body if differentiate else self.prelude).refs.get(id(expr))
        if ref is None:
            ref = self._add(expr, differentiate) if differentiate or expr.value is None else self._argument(expr)
        return ref

    def _add(self, expr: Expr, differentiate: bool) -> Ref:
        """`number` of an expr not numbered yet in its section (the caller has looked it up),
        and pending where not `differentiate`d (the caller has made a known value an argument)."""
        op = expr.op
        if differentiate:
            if op is VAR:  # a leaf: a variable of the differentiated function
                ref = self.body.refs[id(expr)] = self._new_variable(expr)
                return ref
            section, edges = self.body, expr.grad_edges
        elif op is SELECT and is_computed_output(expr):  # known, not settled yet
            settle_output(expr)
            return self._argument(expr)
        elif op is VAR or op is DETACH:  # identities outside differentiation
            ref = self.prelude.refs[id(expr)] = self.number(expr.inputs[0])
            return ref
        else:
            section, edges = self.prelude, _NEVER
        prelude_refs, body_refs, inputs = self.prelude.refs, self.body.refs, []
        for source, edge in zip(expr.inputs, edges):
            source_ref = (body_refs if edge else prelude_refs).get(id(source))  # (looked up without a call)
            if source_ref is None:
                source_ref = self._add(source, edge) if edge or source.value is None else self._argument(source)
            inputs.append(source_ref)
        nodes = section.nodes  # (`_Section.add`, written out: this runs for every node of every program)
        ref = section.refs[id(expr)] = section.interned[len(nodes)]
        nodes.append((op, expr.static, tuple(inputs)))
        section.exprs.append(expr)
        if differentiate and self.probes and id(expr) in self.probes:  # d root / d expr: a zero variable added to the node
            ref = section.refs[id(expr)] = section.add(_ADD, (), (ref, self._new_variable(expr)), None)
        return ref

    def number_root(self, root: Expr) -> Ref:
        """`number(root, differentiate=True)` on a new builder, for graphs of any depth: a graph
        too deep to walk recursively is numbered again bottom up, in topological order."""
        try:
            return self._add(root, True)  # (nothing is numbered yet)
        except RecursionError:
            self.body, self.variables = _Section(_BODY), []
            for expr in gradient_paths(root):
                self.number(expr, True)
            return self.number(root, True)

    def _argument(self, expr: Expr) -> Ref:
        """The ref of a known value: the program's next argument."""
        args = self.args
        ref = self.prelude.refs[id(expr)] = _ARGS[len(args)]
        value = expr.value
        args.append(program_argument(expr) if type(value) in CONVERTED else value)
        return ref

    def input(self, expr: Expr) -> Ref:
        """A new argument whose value is `expr`'s, pending or not: the ref of an input of a
        node that runs this plan as its op (see `BackwardPass.gradient_exprs`)."""
        ref = _ARGS[len(self.args)]
        self.inputs[len(self.args)] = expr
        self.args.append(None)
        return ref

    def argument_exprs(self) -> list[Expr]:
        """An expr for each argument: an `input`'s own, a known value's source. (Known values
        are not kept with their exprs as they are numbered: only a plan run as a node's op, a
        rare case, asks for them.)"""
        return [self.inputs[index] if index in self.inputs else known_value(value) for index, value in enumerate(self.args)]

    def _new_variable(self, expr: Expr) -> Ref:
        self.variables.append(expr)
        return _VARIABLES[len(self.variables) - 1]

    def variable_values(self, as_inputs: bool = False) -> tuple[Ref, ...]:
        """The refs of the variables' values: a leaf's value (the leaf's variable itself as an
        input, `as_inputs`), a probe's zeros."""
        refs = []
        for expr in self.variables:  # (a loop, not a comprehension: one call less on every backward pass)
            if expr.op is not VAR:
                refs.append(self.number(_zeros_like(expr)))
            else:
                refs.append(self.input(expr) if as_inputs else self.number(expr.inputs[0]))
        return tuple(refs)

    def live_outputs(self, skip=()) -> tuple[list[Expr], tuple[Ref, ...]]:
        """The prelude nodes that a live tensor or storage holds, and their refs. An output of
        a multi-output node that is itself an output is left out: `settle_selections` takes
        it from its parent's value, which saves the program an output."""
        exprs, refs, live_ids = [], [], set()
        for index, expr in enumerate(self.prelude.exprs):  # inputs come before the nodes that use them
            if not is_live(expr) or id(expr) in skip:
                continue
            if expr.op is SELECT and id(expr.inputs[0]) in live_ids:
                self.selections.append(expr)
            else:
                exprs.append(expr)
                refs.append(_PRELUDE[index])
            live_ids.add(id(expr))
        return exprs, tuple(refs)

    def body_outputs(self, root: Expr) -> tuple[list[Expr], tuple[Ref, ...]]:
        """The pending body nodes other than the root that a live tensor holds, and their refs."""
        outputs = [(expr, _BODY[index]) for index, expr in enumerate(self.body.exprs)
                   if expr is not None and expr.value is None and expr is not root and is_live(expr)]
        if not outputs:  # (the usual case: intermediate values are not held)
            return [], ()
        exprs, refs = zip(*outputs)
        return list(exprs), refs

    def settle_selections(self) -> None:
        for expr in self.selections:
            settle_output(expr)


def _zeros_like(expr: Expr) -> Expr:
    return Expr(_ZEROS, (("shape", expr.shape), ("dtype", expr.dtype)), (), (), expr.shape, expr.dtype, False)


def gradient_paths(root: Expr) -> list[Expr]:
    """The non-leaf nodes on gradient paths from `root`, in topological order (iteratively,
    for graphs of any depth)."""
    order: list[Expr] = []
    seen: set[int] = set()
    stack = [(root, False)]
    while stack:
        expr, expanded = stack.pop()
        if expanded:
            order.append(expr)
            continue
        if id(expr) in seen or expr.op is VAR:
            continue
        seen.add(id(expr))
        stack.append((expr, True))
        stack.extend((source, False) for source, edge in zip(expr.inputs, expr.grad_edges) if edge)
    return order
