"""Optimizer state under PyTorch's names: `state[p]["exp_avg"]`, not optax's `mu`.

An optimizer's update is an optax transform; `named_state` wraps it so that its state is
what PyTorch keeps for a parameter — the same tensors, under the same names, in the same
order, with the step counter as a float32 0-d tensor — and the state dict of a nablax
optimizer loads into `torch.optim` and back. `STATE_NAMES` says which optax state field is
which PyTorch entry, one row per optimizer; optax's `count` is PyTorch's `step` everywhere.

    >>> import jax.numpy as jnp, optax
    >>> adam = named_state(optax.scale_by_adam(), "Adam")
    >>> state = adam.init(jnp.zeros(3, jnp.float32))
    >>> state.names
    ('step', 'exp_avg', 'exp_avg_sq')
    >>> _, state = adam.update(jnp.ones(3, jnp.float32), state)
    >>> state["step"], state["exp_avg"]
    (Array(1., dtype=float32), Array([0.1, 0.1, 0.1], dtype=float32))
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

# A field PyTorch keeps no tensor for: its value once a step has run (PyTorch's "the buffer
# exists" is nablax's `started` flag).
AFTER_A_STEP = True


class Row(NamedTuple):
    """What PyTorch keeps for one optimizer: whether a `step` counter, and, in PyTorch's
    order, `(optax state field, PyTorch name or AFTER_A_STEP)` pairs."""

    step: bool
    fields: tuple


STATE_NAMES = {
    "SGD": Row(False, (("trace", "momentum_buffer"), ("momentum_buffer", "momentum_buffer"), ("started", AFTER_A_STEP))),
    "Adam": Row(True, (("mu", "exp_avg"), ("nu", "exp_avg_sq"), ("nu_max", "max_exp_avg_sq"))),
    "RMSprop": Row(True, (("nu", "square_avg"), ("trace", "momentum_buffer"), ("mu", "grad_avg"))),
    "Adadelta": Row(True, (("e_g", "square_avg"), ("e_x", "acc_delta"))),
    "Adagrad": Row(True, (("sum_of_squares", "sum"),)),
    "Adamax": Row(True, (("mu", "exp_avg"), ("nu", "exp_inf"))),
    "NAdam": Row(True, (("mu_product", "mu_product"), ("mu", "exp_avg"), ("nu", "exp_avg_sq"))),
    "RAdam": Row(True, (("mu", "exp_avg"), ("nu", "exp_avg_sq"))),
}
COUNTER = "count"  # optax's step counter (int32), PyTorch's `step` (float32)
STEP_DTYPE = jnp.float32


@jax.tree_util.register_pytree_node_class
class NamedState:
    """A parameter's optimizer state as PyTorch names it: `names` and `values`. `fresh`
    marks the state before the first step, which is the inner transform's initial state
    exactly (PyTorch's empty state: no buffer yet, fields it keeps no tensor for included)."""

    def __init__(self, names: tuple, values: tuple, fresh: bool = False):
        self.names, self.values, self.fresh = names, values, fresh

    def __getitem__(self, name: str):
        return self.values[self.names.index(name)]

    def tree_flatten(self):
        return self.values, (self.names, self.fresh)

    @classmethod
    def tree_unflatten(cls, static, values):
        return cls(static[0], tuple(values), static[1])


def _field(path) -> str:
    """The name of the state field a leaf sits in (its last attribute on the path)."""
    for key in reversed(path):
        if isinstance(key, jax.tree_util.GetAttrKey):
            return key.name
    raise ValueError(f"an optimizer state leaf at {jax.tree_util.keystr(path)} is not a named field")


def _name_of(field: str, row: Row, optimizer: str):
    for candidate, name in row.fields:
        if candidate == field:
            return name
    if field == COUNTER:
        return "step"
    raise KeyError(f"the optax state field {field!r} has no PyTorch name in STATE_NAMES[{optimizer!r}]")


def _named(inner_state, step, row: Row, optimizer: str, fresh: bool = False) -> NamedState:
    by_name = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(inner_state)[0]:
        name = _name_of(_field(path), row, optimizer)
        if isinstance(name, str) and name != "step":
            by_name[name] = leaf
    names = [name for _, name in row.fields if isinstance(name, str) and name in by_name]
    names = list(dict.fromkeys(names))  # one entry a name (two fields may share one: SGD's momentum)
    values = [by_name[name] for name in names]
    if row.step:
        names, values = ["step", *names], [step, *values]
    return NamedState(tuple(names), tuple(values), fresh)


def _unnamed(template, state: NamedState, row: Row, optimizer: str):
    """`template` (the inner transform's initial state) with each leaf taken from `state`."""
    paths, treedef = jax.tree_util.tree_flatten_with_path(template)
    leaves = []
    for path, leaf in paths:
        name = _name_of(_field(path), row, optimizer)
        if isinstance(name, str):
            leaves.append(jnp.asarray(state[name]).astype(leaf.dtype))
        else:
            leaves.append(jnp.full_like(leaf, name))
    return jax.tree_util.tree_unflatten(treedef, leaves)


def named_state(inner: optax.GradientTransformation, optimizer: str) -> optax.GradientTransformation:
    """`inner` with its state kept under PyTorch's names for `optimizer` (a key of
    STATE_NAMES), plus PyTorch's step counter where PyTorch keeps one. The state a step
    returns is what PyTorch keeps, so it may lack fields of the initial state."""
    row = STATE_NAMES[optimizer]

    def init(params: Any) -> NamedState:
        return _named(inner.init(params), jnp.zeros((), STEP_DTYPE), row, optimizer, fresh=True)

    def update(updates, state: NamedState, params=None):
        # The inner initial state is the state of the first step, and gives the structure of
        # later ones (XLA drops its unused values).
        initial = inner.init(updates if params is None else params)
        inner_state = initial if state.fresh else _unnamed(initial, state, row, optimizer)
        updates, inner_state = inner.update(updates, inner_state, params)
        # State keeps its dtypes (PyTorch's: the parameter's), whatever a rule computed in.
        inner_state = jax.tree_util.tree_map(lambda new, old: new.astype(old.dtype), inner_state, initial)
        step = state["step"] + 1 if row.step else None
        return updates, _named(inner_state, step, row, optimizer)

    return optax.GradientTransformation(init, update)
