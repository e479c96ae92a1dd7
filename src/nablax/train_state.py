"""`TrainState`: everything a training step changes, as one pytree."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ._keys import as_key
from .precision import LossScale, Precision, as_precision


class TrainState(NamedTuple):
    """Everything a training step changes, as one pytree: parameters, optimizer state,
    the step count, and (when the loss needs randomness) a PRNG key; the model's state
    (running statistics), an exponential moving average of the parameters
    (`make_train_step(..., ema=decay)`) and the dynamic loss scale of float16 training
    (`nablax.precision`) when a step keeps them.

    A train step counts on the host, so `step` is a plain `int` between steps: reading it
    never waits for the device, and the compiled step carries no counter. Inside a compiled
    program (a fused `fit` epoch, your own `jax.jit`) it is traced like any other leaf, and
    a state coming out of one holds it as a scalar array until the next step reads it.

        >>> import optax, nablax as nx
        >>> model = nx.nn.Linear(2, 1)
        >>> state = nx.TrainState.create(model.init(0), optax.sgd(0.1))
        >>> state.step
        0
    """

    params: Any
    opt_state: Any
    step: int | jax.Array = 0
    key: jax.Array | None = None
    model_state: Any = None
    ema_params: Any = None
    loss_scale: LossScale | None = None

    @classmethod
    def create(cls, params: Any, optimizer: optax.GradientTransformation, *, key=None, model_state=None,
               ema: bool = False, precision: Precision | str | None = None) -> TrainState:
        """A state at step 0 with `optimizer.init(params)`; give `key` when the loss takes one
        and `model_state` (e.g. `model.init_state()`) when the model has running statistics.
        `ema=True` starts an average of the parameters (at the parameters) for a step made
        with `ema=`, and `precision` the loss scale of one whose precision scales the loss
        (float16).

        The state holds copies: a donating train step consumes the state's buffers, never
        arrays the caller still holds."""
        optimizer = check_optimizer(optimizer)
        params = jax.tree_util.tree_map(jnp.copy, params)
        precision = as_precision(precision)
        return cls(
            params=params,
            opt_state=optimizer.init(params),
            step=0,
            key=None if key is None else as_key(key),
            model_state=None if model_state is None else jax.tree_util.tree_map(jnp.copy, model_state),
            ema_params=jax.tree_util.tree_map(jnp.copy, params) if ema else None,
            loss_scale=None if precision is None else precision.initial_loss_scale(),
        )

    def replace(self, **changes: Any) -> TrainState:
        """A copy with the given fields replaced."""
        return self._replace(**changes)


_new_tuple = tuple.__new__


def next_state(state: TrainState, params: Any, opt_state: Any, model_state: Any, ema_params: Any,
               loss_scale: LossScale | None) -> TrainState:
    """`state` one step on, holding what the step computed: the count advanced, the key kept.

    Every train step builds its result here. It calls `tuple.__new__` rather than the
    generated constructor, which costs as much as the rest of a tiny model's step in Python."""
    return _new_tuple(TrainState, (params, opt_state, state.step + 1, state.key, model_state, ema_params, loss_scale))


def check_optimizer(optimizer: Any) -> optax.GradientTransformation:
    """Returns `optimizer` if it is an optax transform, or raises an error that says what to pass."""
    if isinstance(optimizer, optax.GradientTransformation):
        return optimizer
    if callable(getattr(optimizer, "init", None)) and callable(getattr(optimizer, "update", None)):
        return optax.GradientTransformation(optimizer.init, optimizer.update)
    raise TypeError(
        f"optimizer must be an optax.GradientTransformation (e.g. optax.sgd(0.1) or optax.adam(1e-3)), "
        f"got {type(optimizer).__module__}.{type(optimizer).__qualname__}"
    )
