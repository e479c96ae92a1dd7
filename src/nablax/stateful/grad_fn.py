"""The `grad_fn` objects users see: PyTorch's backward nodes, as views of the graph.

One class per PyTorch name, so that `type(t.grad_fn).__name__ == "AddBackward0"` and the
repr reads `<AddBackward0 object at 0x...>`; the same object every time for a node. The
engine only carries each node's name (`Expr.grad_name`); what PyTorch shows of the graph
is decided here.
"""

from __future__ import annotations

import functools
import weakref

from . import engine
from .engine import Expr


# The grad_name of a node PyTorch has no derivative for (floor division, say): its result
# requires grad, and a backward pass through it raises.
NOT_DIFFERENTIABLE = "NotImplemented"

# Nodes PyTorch names but has no derivative for: the error a backward pass through one
# raises (for NOT_DIFFERENTIABLE, "derivative for aten::<op> is not implemented").
NO_DERIVATIVE = {
    "Unique2Backward0": (NotImplementedError, "the derivative for '_unique2' is not implemented."),
    "UniqueDimBackward0": (NotImplementedError, "the derivative for 'unique_dim' is not implemented."),
}

# Ops PyTorch differentiates in some inputs only: op name -> {input position: the error a
# backward pass raises when it needs the gradient of that input}.
NO_DERIVATIVE_IN = {
    "igamma": {0: (NotImplementedError, "the derivative for 'igamma: input' is not implemented.")},
    "igammac": {0: (NotImplementedError, "the derivative for 'igammac: input' is not implemented.")},
    "special_zeta": {0: (NotImplementedError, "the derivative for 'zeta' is not implemented.")},
}


# Nodes PyTorch writes by hand in C++ rather than generating them from its derivative
# formulas: their `name()` carries the namespace ("torch::autograd::CopySlices").
_HAND_WRITTEN = frozenset({"AccumulateGrad", "CopyBackwards", "CopySlices", NOT_DIFFERENTIABLE})


class Node:
    """A node of the backward graph, viewed from Python."""

    __slots__ = ("_expr", "__weakref__")

    def __init__(self, expr: Expr):
        self._expr = expr

    def name(self) -> str:
        name = type(self).__name__
        return f"torch::autograd::{name}" if name in _HAND_WRITTEN else name

    @property
    def next_functions(self) -> tuple:
        """For each input PyTorch's node has an edge for: `(node, 0)` when gradients flow to
        it (an `AccumulateGrad` for a leaf), `(None, 0)` otherwise."""
        op = self._expr.op
        if op is not None and op.name in _GRAPHS_OF_OPS:
            return _GRAPHS_OF_OPS[op.name](self)
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


class _Unrecorded(Node):
    """A node of PyTorch's graph where nablax records none, with its edges given: the
    transposed weight of a linear layer, say (one op here, three nodes in PyTorch)."""

    __slots__ = ("_next",)

    def __init__(self, expr: Expr, next_functions: tuple):
        super().__init__(expr)
        self._next = next_functions

    @property
    def next_functions(self) -> tuple:
        return self._next


@functools.lru_cache(maxsize=None)
def _unrecorded_class(name: str) -> type:
    return type(name, (_Unrecorded,), {"__slots__": ()})


def _edge(expr: Expr, index: int) -> tuple:
    return (node_of(expr.inputs[index]) if expr.grad_edges[index] else None, 0)


def _linear_graph(node: Node) -> tuple:
    """PyTorch's graph of `F.linear(input, weight, bias)`: an `AddmmBackward0` (bias, input,
    the weight's `TBackward0`) or, without a bias, an `MmBackward0` (input, weight's
    transpose); for an input of other than two dims, that node under a `ViewBackward0`."""
    expr = node._expr

    def unrecorded(name: str, *edges) -> tuple:
        return (_unrecorded_class(name)(expr, edges), 0)

    weight = unrecorded("TBackward0", _edge(expr, 1)) if expr.grad_edges[1] else (None, 0)
    name = type(node).__name__
    if name == "AddmmBackward0":
        return _edge(expr, 2), _edge(expr, 0), weight
    if name == "MmBackward0":
        return _edge(expr, 0), weight
    if name == "ViewBackward0":
        viewed = unrecorded("ViewBackward0", _edge(expr, 0)) if expr.grad_edges[0] else (None, 0)
        return (unrecorded("AddmmBackward0", _edge(expr, 2), viewed, weight),)
    return tuple(_edge(expr, index) for index in range(len(expr.inputs)))


def _tensor_inputs(count: int):
    """The graph of an op whose first `count` inputs are tensors, the rest positions given as
    arguments (views and writes through them, see views.split_positions)."""
    return lambda node: tuple(_edge(node._expr, index) for index in range(count))


# Ops whose PyTorch graph differs from the inputs recorded: op name -> its `next_functions`.
_GRAPHS_OF_OPS = {"linear": _linear_graph, "view": _tensor_inputs(1), "copy_slices": _tensor_inputs(2)}


class AccumulateGrad(Node):
    """Where the gradient of a leaf tensor is added into its `.grad`."""

    __slots__ = ()

    @property
    def variable(self):
        return engine.leaf_of(self._expr)

    @property
    def next_functions(self) -> tuple:
        return ()


@functools.lru_cache(maxsize=None)
def _node_class(name: str) -> type:
    return type(name, (Node,), {"__slots__": ()})


# id(expr) -> its Node, while anyone holds the node (which holds the expr, so the id is its).
_NODES: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def node_of(expr: Expr) -> Node | None:
    """The `grad_fn` (or `AccumulateGrad`) object of an expr: the same object for as long
    as anyone holds it."""
    node = _NODES.get(id(expr))
    if node is None:
        if expr.op is engine.VAR:
            node = AccumulateGrad(expr)
        elif expr.requires_grad:
            node = _node_class(expr.grad_name or "Backward")(expr)
        else:
            return None
        _NODES[id(expr)] = node
    return node
