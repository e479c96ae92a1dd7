"""A functional layer's `apply` recorded as one op of the stateful face.

The attention, transformer and recurrent modules of `nn` keep their parameters as
`Parameter`s under PyTorch's names, and their forward is the functional layer's `apply`
(`nablax.nn.MultiheadAttention`, `TransformerEncoderLayer`, `LSTM`, ...): one op whose
operands are the parameters, the inputs and, for dropout in training, a draw of the global
random stream. Gradients of every parameter and input come from JAX differentiating that
apply, so the math of these layers lives once, in `nablax.nn`.
"""

from __future__ import annotations

import functools
import weakref

import jax
import numpy as np

from .. import engine
from ..engine import Op, no_grad
from ..ops import random
from ..recording import output, record, record_expr
from ..tensor import Tensor

_OPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # layer class -> its op


def _nested(names: tuple[str, ...], values) -> dict:
    """`{"a.b": x}` as `{"a": {"b": x}}`: the params pytree of a functional layer."""
    params: dict = {}
    for name, value in zip(names, values):
        node = params
        *parents, leaf = name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return params


def _apply_tree(*operands, layer, names, places, tree, options, draws):
    """The layer's `apply` on the operands: parameters (by state_dict name), then the
    distinct input tensors (`places` puts them back where the caller passed them, so a
    tensor passed twice arrives twice as the same array), then `(seed, counter)` when
    dropout draws."""
    count = len(names)
    inputs = operands[count:len(operands) - 2 * draws]
    key = random.key_of(*operands[-2:]) if draws else None
    args, kwargs = jax.tree_util.tree_unflatten(tree, [inputs[place] for place in places])
    return layer.apply(_nested(names, operands[:count]), *args, **kwargs, **dict(options), key=key, train=draws)


def _apply(*operands, **static):
    leaves = jax.tree_util.tree_leaves(_apply_tree(*operands, **static))
    return leaves[0] if len(leaves) == 1 else tuple(leaves)


def _op(layer) -> Op:
    """One op per functional layer class, named after it (the name shows in program
    signatures and error messages)."""
    kind = type(layer)
    op = _OPS.get(kind)
    if op is None:
        op = _OPS[kind] = Op(kind.__name__, _apply)
    return op


def _abstract(operand):
    if isinstance(operand, Tensor):
        expr = operand._current_expr()
        return jax.ShapeDtypeStruct(expr.shape, expr.dtype)
    return jax.ShapeDtypeStruct((), np.int64)  # the seed and counter of a draw


@functools.lru_cache(maxsize=1024)
def _outputs(static, avals: tuple):
    """The result's tree structure and the shape and dtype of each leaf, found by tracing."""
    out = jax.eval_shape(functools.partial(_apply_tree, **dict(static)), *avals)
    leaves, tree = jax.tree_util.tree_flatten(out)
    return tree, tuple((leaf.shape, leaf.dtype) for leaf in leaves)


def record_apply(layer, parameters: dict, args: tuple, kwargs: dict | None = None, options: dict | None = None, *,
                 draws: bool = False, grad_names=None):
    """Records `layer.apply(params, *args, **kwargs, **options)` as one op and returns its
    result with tensors in place of arrays (the same tree: a tensor, `(output, weights)`,
    `(output, (h_n, c_n))`, ...).

    `parameters` maps state_dict names to the module's parameters; `args`/`kwargs` hold
    tensors (or None, or tuples of tensors); `options` are static keyword arguments. With
    `draws`, the apply runs in training with a PRNG key from the global stream. `grad_names`
    gives PyTorch's backward-node name of each output leaf, in order (one string for all).
    """
    leaves, tree = jax.tree_util.tree_flatten((tuple(args), dict(kwargs or {})))
    distinct, places, seen = [], [], {}
    for leaf in leaves:
        if id(leaf) not in seen:
            seen[id(leaf)] = len(distinct)
            distinct.append(leaf)
        places.append(seen[id(leaf)])
    operands = (*parameters.values(), *distinct, *(random.default_generator.next_draw() if draws else ()))
    static = (("layer", layer), ("names", tuple(parameters)), ("places", tuple(places)), ("tree", tree),
              ("options", tuple(sorted((options or {}).items()))), ("draws", bool(draws)))
    out_tree, outputs = _outputs(static, tuple(_abstract(operand) for operand in operands))
    names = [grad_names] * len(outputs) if grad_names is None or isinstance(grad_names, str) else list(grad_names)
    op = _op(layer)
    if len(outputs) == 1:
        (shape, dtype), = outputs
        return jax.tree_util.tree_unflatten(out_tree, [record(op, operands, shape, dtype, names[0], static)])
    expr, device = record_expr(op, operands, tuple(shape for shape, _ in outputs), None, names[0], static)
    tensors = [Tensor._from_expr(output(expr, index, shape, dtype, expr.requires_grad, names[index]), device)
               for index, (shape, dtype) in enumerate(outputs)]
    return jax.tree_util.tree_unflatten(out_tree, tensors)


def as_jax_function(fn):
    """A function of tensors (an activation such as `nn.GELU('tanh')` or a lambda) as a
    function of JAX arrays, for a functional layer's field: it runs the stateful ops on the
    traced values inside the one op, and JAX differentiates them with the rest."""
    if isinstance(fn, _StatefulFunction):
        return fn
    return _StatefulFunction(fn)


class _StatefulFunction:
    """See `as_jax_function`; compared by the function it wraps, so that copies of a layer
    (`TransformerEncoder`'s clones) give equal static arguments and share one program."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, x):
        with no_grad():
            return self.fn(Tensor._from_expr(engine.source(x)))._value()

    def __eq__(self, other) -> bool:
        return isinstance(other, _StatefulFunction) and _same_function(self.fn, other.fn)

    def __hash__(self) -> int:
        return hash(type(self.fn)) if hasattr(self.fn, "_modules") else hash(self.fn)


def _same_function(a, b) -> bool:
    """The same function, or parameter-free modules of one class that print alike (copies)."""
    if a is b:
        return True
    return hasattr(a, "_modules") and type(a) is type(b) and repr(a) == repr(b)
