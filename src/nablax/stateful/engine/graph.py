"""The recorded graph: ops, the nodes (`Expr`) that apply them, and the special nodes
through which autograd sees tensors.

An `Expr` is a value that is either known (`value` set: a source) or pending (computed
from its `inputs` by its `op` when something asks for it). Shape and dtype are known at
once. Nodes hold three kinds of state, kept in that order below:

- the graph: `op`, `static` (hashable keyword arguments of the op), `inputs`, `shape`, `dtype`;
- autograd: `grad_edges[i]` (whether gradients flow to `inputs[i]`), `requires_grad`,
  `grad_name` (the name the layer above gives the node's backward, PyTorch's `grad_fn`
  class name; the engine only carries it) and `freed` (set once a backward pass has
  released what the node saved, see `autograd/`);
- the run: `value` once computed, `owner` (a weak reference to the storage or tensor whose
  current value this node is: a pending node with a live owner is an output of the program
  that computes it, so it is never computed twice) and `depth` (pending ops below it).
"""

from __future__ import annotations

import weakref

import jax
import numpy as np

# Pending graphs deeper than this are run at once: bounds program size and compile time
# for code that builds long chains of ops without ever looking at the result.
MAX_PENDING_DEPTH = 64


class Op:
    """A pure operation: `fn(*input_values, **static) -> value` (a tuple for multi-output
    ops). `name` identifies it in program signatures and error messages. `saves` says
    whether PyTorch's backward node for it keeps tensors, which a backward pass frees
    (then a second backward through it is an error). `host`, where given, computes the
    same bits with NumPy (see host.py)."""

    __slots__ = ("name", "fn", "saves", "host", "__weakref__")

    def __init__(self, name: str, fn, *, saves: bool = True, host=None):
        self.name = name
        self.fn = fn
        self.saves = saves
        self.host = host

    def __repr__(self) -> str:
        return f"Op({self.name})"


class Expr:
    """A node of the graph (see the module docstring for its fields)."""

    __slots__ = ("op", "static", "inputs", "shape", "dtype",
                 "grad_edges", "requires_grad", "grad_name", "freed",
                 "value", "owner", "depth", "__weakref__")

    def __init__(self, op, static, inputs, grad_edges, shape, dtype, requires_grad, grad_name=None):
        self.op = op
        self.static = static
        self.inputs = inputs
        self.shape = shape
        self.dtype = dtype
        self.grad_edges = grad_edges
        self.requires_grad = requires_grad
        self.grad_name = grad_name
        self.freed = False
        self.value = None
        self.owner = None
        depth = 0
        for source in inputs:
            if source.value is not None:  # most inputs: known values add no depth
                continue
            while source.op is VAR or source.op is DETACH:  # identities: look at what they wrap
                source = source.inputs[0]
            if source.value is None and source.depth >= depth and not (source.op is SELECT
                                                                       and source.inputs[0].value is not None):
                # (An output of a computed op is known. Counting its stale depth would make chains such
                # as a batch norm's running statistics one op deeper every step, until
                # MAX_PENDING_DEPTH cut each step's graph at a new place: a new program every step.)
                depth = source.depth + 1
        self.depth = depth

    @property
    def ndim(self) -> int:
        return len(self.shape)


def source(value, requires_grad: bool = False) -> Expr:
    """An expr whose value is known: a JAX or NumPy array, or a Python scalar (whose dtype
    is None: the op that takes it decides)."""
    if isinstance(value, (jax.Array, np.ndarray)):
        expr = Expr(None, (), (), (), value.shape, value.dtype, requires_grad)
    else:
        expr = Expr(None, (), (), (), (), None, requires_grad)
    expr.value = value
    return expr


def _identity(x):
    return x


VAR = Op("variable", _identity)  # a leaf tensor's value, where gradients are taken
SELECT = Op("select_output", lambda values, *, index: values[index])  # one output of a multi-output op
DETACH = Op("detach", jax.lax.stop_gradient, saves=False)


def variable(value_expr: Expr, leaf) -> Expr:
    """The expr through which the leaf tensor `leaf`, which requires grad, enters the graph;
    its owner is the leaf, where a backward pass puts the gradient."""
    expr = Expr(VAR, (), (value_expr,), (False,), value_expr.shape, value_expr.dtype, True)
    expr.owner = weakref.ref(leaf)
    return expr


def dead_end(value_expr: Expr) -> Expr:
    """A leaf that requires grad but whose gradient goes nowhere (it has no owner): what
    PyTorch makes of a view taken under `no_grad` of a tensor that requires grad."""
    return Expr(VAR, (), (value_expr,), (False,), value_expr.shape, value_expr.dtype, True)


def leaf_of(variable_expr: Expr):
    """The leaf tensor of a `VAR` node, or None (a dead end, or a tensor that is gone)."""
    owner = variable_expr.owner
    return None if owner is None else owner()


def detached(value_expr: Expr) -> Expr:
    """`value_expr` with gradients cut: what `detach()` and `.data` see."""
    return Expr(DETACH, (), (value_expr,), (False,), value_expr.shape, value_expr.dtype, False)


@jax.custom_jvp
def _with_history(old, new):
    return new


@_with_history.defjvp
def _with_history_jvp(primals, tangents):
    return primals[1], tangents[0]


KEEP_HISTORY = Op("keep_history", _with_history, saves=False, host=lambda old, new: new)


def with_history(old: Expr, new: Expr) -> Expr:
    """`new`'s value with `old`'s gradient history: an in-place write that autograd does
    not record (under `no_grad`, or through a detached alias) leaves a tensor that requires
    grad with its old `grad_fn`, and gradients flow into the old graph, as in PyTorch."""
    return Expr(KEEP_HISTORY, (), (old, new), (True, False), old.shape, old.dtype, True, old.grad_name)


def strip(expr: Expr) -> Expr:
    """The expr that computes `expr`'s value, looking through identity wrappers."""
    while expr.op is VAR or expr.op is DETACH:
        expr = expr.inputs[0]
    return expr


def is_live(expr: Expr) -> bool:
    """Whether a tensor or storage still holds `expr` as its current value."""
    owner = expr.owner
    return owner is not None and owner() is not None


def is_computed_output(expr: Expr) -> bool:
    """Whether `expr` is a pending output of a multi-output op whose values are known: it
    is known too, though nothing has settled it yet (`settle_output` does)."""
    return expr.op is SELECT and expr.value is None and expr.inputs[0].value is not None


def settle(expr: Expr, value) -> None:
    """Stores a computed value; a node outside autograd no longer needs its inputs."""
    expr.value = value
    if not expr.requires_grad:
        expr.inputs = ()
        expr.grad_edges = ()
    expr.depth = 0


def settle_output(expr: Expr) -> None:
    """Settles one output of a computed multi-output op from its parent's values."""
    settle(expr, expr.inputs[0].value[expr.static[0][1]])
