"""Autograd: grad mode, `backward`, `autograd.grad`, and the `grad_fn` objects users see.

Backward never runs per-op backward closures. It flattens the recorded graph from the root
back to the leaf tensors that require grad into one program (see lazy.py) that computes the
forward pass and a single `jax.vjp` of it, plus the accumulation into every leaf's `.grad`.
The program is compiled once per graph structure and cached, so a training loop pays one
dispatch per `backward()`.
"""

from __future__ import annotations

import functools
import threading

from . import lazy
from .lazy import VAR, Expr

# ---------------------------------------------------------------------------------------
# Grad mode


class _GradMode(threading.local):
    enabled = True


_MODE = _GradMode()


def is_grad_enabled() -> bool:
    """Whether ops performed now are recorded for differentiation."""
    return _MODE.enabled


class _GradModeContext:
    """Base of `no_grad`/`enable_grad`/`set_grad_enabled`: a context manager and a decorator."""

    _target: bool

    def __new__(cls, function=None):
        # `@no_grad` without parentheses hands the function straight to the constructor.
        context = super().__new__(cls)
        return context(function) if callable(function) else context

    def __enter__(self):
        self._previous = _MODE.enabled
        _MODE.enabled = self._target
        return self

    def __exit__(self, *exc_info):
        _MODE.enabled = self._previous
        return False

    def __call__(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with type(self)() if not isinstance(self, set_grad_enabled) else set_grad_enabled(self._target):
                return function(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):  # noqa: N801 - PyTorch's name
    """Ops inside do not record gradients: `with torch.no_grad(): w -= lr * w.grad`. Also a
    decorator, with or without parentheses."""

    _target = False


class enable_grad(_GradModeContext):  # noqa: N801
    """Turns gradient recording back on inside a `no_grad` region."""

    _target = True


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """Sets grad mode to `mode`, immediately and (as a context) for a block."""

    def __init__(self, mode: bool):
        self._target = bool(mode)
        self._previous = _MODE.enabled
        _MODE.enabled = self._target

    def __enter__(self):
        return self


inference_mode = no_grad


# ---------------------------------------------------------------------------------------
# grad_fn objects: what `tensor.grad_fn` shows. One class per PyTorch name, so that
# `type(t.grad_fn).__name__ == "AddBackward0"` and the repr reads `<AddBackward0 object at 0x...>`.


class Node:
    """A node of the backward graph, viewed from Python."""

    __slots__ = ("_expr", "__weakref__")

    def __init__(self, expr: Expr):
        self._expr = expr

    def name(self) -> str:
        return type(self).__name__

    @property
    def next_functions(self) -> tuple:
        """For each input PyTorch's node has an edge for: `(node, 0)` when gradients flow to
        it (an `AccumulateGrad` for a leaf), `(None, 0)` otherwise."""
        shown = _SHOWN_INPUTS.get(type(self).__name__)
        return tuple((node_of(source) if edge else None, 0)
                     for index, (source, edge) in enumerate(zip(self._expr.inputs, self._expr.grad_edges))
                     if shown is None or shown(index, source))

    @property
    def metadata(self) -> dict:
        return {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {hex(id(self))}>"


def _not_a_python_scalar(index: int, source: Expr) -> bool:
    return source.op is not None or source.shape != () or source.dtype is not None


# Nodes whose PyTorch twin has edges for only some of the recorded inputs: a Python scalar
# that PyTorch takes as a Scalar argument, a `where` condition, index arrays.
_SHOWN_INPUTS = {
    "RsubBackward1": _not_a_python_scalar,
    "PowBackward2": _not_a_python_scalar,
    "WhereBackward0": lambda index, source: index > 0,
    "IndexBackward0": lambda index, source: index == 0,
}


class AccumulateGrad(Node):
    """Where the gradient of a leaf tensor is added into its `.grad`."""

    __slots__ = ()

    @property
    def variable(self):
        return self._expr.leaf()

    @property
    def next_functions(self) -> tuple:
        return ()


@functools.lru_cache(maxsize=None)
def _node_class(name: str) -> type:
    return type(name, (Node,), {"__slots__": ()})


def node_of(expr: Expr) -> Node | None:
    """The `grad_fn` (or `AccumulateGrad`) object of an expr, the same object every time."""
    if expr.node is None:
        if expr.op is VAR:
            expr.node = AccumulateGrad(expr)
        elif expr.requires_grad:
            expr.node = _node_class(expr.grad_name or "Backward")(expr)
    return expr.node


# ---------------------------------------------------------------------------------------
# Backward


_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they have "
    "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
    "if you need to access saved tensors after calling backward."
)


def _backward_graph(root: Expr) -> tuple[list[Expr], list[Expr]]:
    """The non-leaf nodes on gradient paths from `root`, in topological order, and the leaf
    variables those paths end at."""
    order: list[Expr] = []
    variables: list[Expr] = []
    seen: set[int] = set()
    stack = [(root, False)]
    while stack:
        expr, expanded = stack.pop()
        if expanded:
            order.append(expr)
            continue
        if id(expr) in seen:
            continue
        seen.add(id(expr))
        if expr.op is VAR:
            variables.append(expr)
            continue
        if expr.freed and expr.saves:
            raise RuntimeError(_FREED)
        stack.append((expr, True))
        for source, edge in zip(expr.inputs, expr.grad_edges):
            if edge and id(source) not in seen:
                stack.append((source, False))
    return order, variables


class _Body:
    """Numbers the nodes of the differentiated function: the non-leaf nodes on gradient
    paths from the root (body nodes) and the leaf variables they reach; everything else
    they need goes to the prelude (computed before, without differentiation)."""

    __slots__ = ("prelude", "argument", "prelude_refs", "nodes", "exprs", "variables", "ref_of", "probes")

    def __init__(self, builder: lazy._PlanBuilder, probes=()):
        self.prelude = builder.prelude
        self.argument = builder.argument
        self.prelude_refs = builder.ref_of
        self.nodes: list[tuple] = []
        self.exprs: list = []  # the body exprs, same order (None for a probe's addition)
        self.variables: list[Expr] = []
        self.ref_of: dict[int, int] = {}
        self.probes = {id(probe) for probe in probes}

    def visit(self, expr: Expr) -> int:
        """The body ref of `expr`, reached along a gradient edge (recursively)."""
        ref = self.ref_of.get(id(expr))
        if ref is not None:
            return ref
        if expr.op is VAR:
            ref = len(self.variables) << 2 | lazy.VARIABLE
            self.variables.append(expr)
        else:
            if expr.freed and expr.saves:
                raise RuntimeError(_FREED)
            if expr.grad_name == "NotImplemented":  # an op PyTorch has no derivative for
                raise RuntimeError(f"derivative for aten::{expr.op.name} is not implemented")
            refs = []
            body_refs, prelude_refs = self.ref_of, self.prelude_refs
            for source, edge in zip(expr.inputs, expr.grad_edges):  # numbered inputs are looked up without a call
                if edge:
                    source_ref = body_refs.get(id(source))
                    refs.append(self.visit(source) if source_ref is None else source_ref)
                else:
                    source_ref = prelude_refs.get(id(source))
                    if source_ref is None:
                        source_ref = self.argument(source) if source.value is not None else self.prelude(source)
                    refs.append(source_ref)
            ref = len(self.nodes) << 2 | lazy.BODY
            self.nodes.append((expr.op, expr.static, tuple(refs)))
            self.exprs.append(expr)
            if id(expr) in self.probes:  # d root / d expr: a zero-valued variable added to the node
                self.nodes.append((_ADD, (), (ref, len(self.variables) << 2 | lazy.VARIABLE)))
                self.exprs.append(None)
                self.variables.append(expr)
                ref = (len(self.nodes) - 1) << 2 | lazy.BODY
        self.ref_of[id(expr)] = ref
        return ref

    def visit_root(self, root: Expr) -> int:
        try:
            return self.visit(root)
        except RecursionError:  # a very deep graph: visit in topological order, bottom up
            self.nodes, self.exprs, self.variables, self.ref_of = [], [], [], {}
            for expr in _backward_graph(root)[0]:
                self.visit(expr)
            return self.visit(root)


def leaf_groups(variables: list[Expr]) -> tuple[list, list]:
    """Groups the indices of leaf variables by the tensor they belong to (a leaf changed in
    place between two uses appears as two variables); variables of tensors that no longer
    exist are left out (their gradients are not wanted)."""
    leaves, groups, index_of = [], [], {}
    for index, expr in enumerate(variables):
        leaf = expr.leaf() if expr.op is VAR else None
        if leaf is None:
            continue
        key = id(leaf)
        if key not in index_of:
            index_of[key] = len(leaves)
            leaves.append(leaf)
            groups.append([])
        groups[index_of[key]].append(index)
    return leaves, groups


def run_backward(root: Expr, cotangent: Expr | None, *, retain_graph: bool, groups=None, probes=()) -> tuple:
    """Runs the backward program of `root`.

    With `groups=None` the gradients go to the leaf tensors the graph reaches, each summed
    over its variables and added to its current `.grad`, and the result is `(leaves,
    grads)`. Otherwise `groups` lists exprs of leaf variables whose gradients are summed
    (without accumulation), and the result is their gradients, then one per probe (a
    non-leaf node whose gradient is wanted).
    """
    builder = lazy._PlanBuilder()
    body = _Body(builder, probes)
    root_ref = body.visit_root(root)
    variables = body.variables
    leaves = None
    if groups is None:
        leaves, index_groups = leaf_groups(variables)
        old_grads = [old_grad_of(leaf) for leaf in leaves]
    else:
        index_of = {id(expr): index for index, expr in enumerate(variables)}
        index_groups = [[index_of[id(expr)] for expr in group] for group in groups]
        index_groups += [[index_of[id(probe)]] for probe in probes]
        old_grads = [None] * len(index_groups)
    prelude = builder.prelude
    variable_refs = tuple([prelude(expr.inputs[0]) if expr.op is VAR else prelude(_zeros_like(expr)) for expr in variables])
    cotangent_ref = None if cotangent is None else prelude(cotangent)
    grad_groups = tuple((tuple(indices), None if old is None else prelude(old)) for indices, old in zip(index_groups, old_grads))

    body_outputs = [(expr, i << 2 | lazy.BODY) for i, expr in enumerate(body.exprs)
                    if expr is not None and expr.value is None and expr is not root and lazy._is_live(expr)]
    prelude_outputs = builder.live_outputs()
    key = (
        tuple(builder.nodes),
        (tuple(body.nodes), variable_refs, root_ref, cotangent_ref, tuple([ref for _, ref in body_outputs]), grad_groups),
        tuple([ref for _, ref in prelude_outputs]),
    )
    prelude_values, root_value, body_values, grads = lazy.PROGRAMS.run(key, builder.args)

    for (expr, _), value in zip(prelude_outputs, prelude_values):
        lazy._settle(expr, value)
    builder.settle_selections()
    for (expr, _), value in zip(body_outputs, body_values):
        expr.value = value
    if root.op is not VAR and root.value is None:
        root.value = root_value
    if not retain_graph:
        for expr in body.exprs:
            if expr is not None:
                expr.freed = True
    return (leaves, grads) if leaves is not None else grads


def old_grad_of(leaf):
    """The expr of a leaf's current `.grad`, which a backward pass adds to."""
    grad = leaf.grad
    return None if grad is None else lazy.strip(grad._current_expr())


def _zeros_like_fn(*, shape, dtype):
    import jax.numpy as jnp

    return jnp.zeros(shape, dtype)


_ADD = lazy.Op("add", lambda a, b: a + b)
_ZEROS = lazy.Op("zeros", _zeros_like_fn)


def _zeros_like(expr: Expr) -> Expr:
    return Expr(_ZEROS, (("shape", expr.shape), ("dtype", expr.dtype)), (), (), expr.shape, expr.dtype, False)


def variables_of(root: Expr) -> list[Expr]:
    """The leaf variables that gradient paths from `root` reach."""
    return _backward_graph(root)[1]


# ---------------------------------------------------------------------------------------
# The `torch.autograd` namespace users see.

from .grad import backward as _backward_one  # noqa: E402
from .grad import grad as grad  # noqa: E402,F401


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None) -> None:
    """`torch.autograd.backward`: `tensor.backward(gradient)` for one or more tensors."""
    tensors = list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]
    gradients = list(grad_tensors) if isinstance(grad_tensors, (list, tuple)) else [grad_tensors] * len(tensors)
    for index, (tensor, gradient) in enumerate(zip(tensors, gradients)):
        keep = retain_graph if retain_graph is not None else index < len(tensors) - 1
        _backward_one(tensor, gradient, retain_graph=keep, create_graph=create_graph, inputs=inputs)


def Variable(data, requires_grad: bool = False, volatile: bool = False):  # noqa: N802 - PyTorch's name
    """The legacy `autograd.Variable(tensor, requires_grad=...)`: since PyTorch 0.4 a
    Variable is a tensor; this returns a tensor sharing `data`'s values."""
    return data.detach().requires_grad_(requires_grad)
