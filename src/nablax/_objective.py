"""The calling convention of a loss function, in one place.

A loss function is `loss_fn(params, batch) -> loss` or `-> (loss, metrics)`, where `metrics`
is a dict of scalars. It may also accept the keywords:

- `key`: a fresh PRNG key for each training step (dropout), drawn from the state's key;
- `train`: `True` in training steps, `False` in evaluation;
- `state`: the model's state (BatchNorm's running statistics, `TrainState.model_state`);
  such a loss returns `(loss, metrics, new_state)`, and training steps keep `new_state`.

With a mixed precision policy (`nablax.precision`) the loss sees its parameters and the
batch's floating arrays in the compute dtype, and returns its loss and metrics in float32.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp

from .data import Data
from .precision import Precision, to_float32


class Objective:
    """Calls a user's loss function with the keywords it accepts (in `precision`, when given)
    and normalises its result to `(loss, metrics, new_state)`."""

    def __init__(self, loss_fn: Callable, precision: Precision | None = None):
        if not callable(loss_fn):
            raise TypeError(f"loss_fn must be callable as loss_fn(params, batch), got {type(loss_fn).__name__}")
        self.loss_fn = loss_fn
        self.precision = precision
        try:
            parameters = inspect.signature(loss_fn).parameters
        except (TypeError, ValueError):  # some builtins and C functions have no signature
            parameters = {}
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
        self.takes_key = takes_any or "key" in parameters
        self.takes_train = takes_any or "train" in parameters
        self.needs_key = "key" in parameters and parameters["key"].default is inspect.Parameter.empty
        self.takes_state = "state" in parameters

    def __call__(self, params: Any, batch: Data, *, key: jax.Array | None, train: bool, state: Any = None):
        """`(loss, metrics, new_state)`; `new_state` is None for a loss without state."""
        if self.precision is None:
            return self._normalised(self.loss_fn(params, batch, **self._keywords(key, train, state)))
        params, batch = self.precision.cast((params, batch))
        loss, metrics, new_state = self._normalised(self.loss_fn(params, batch, **self._keywords(key, train, state)))
        if new_state is not None:  # running statistics stay in their own dtypes (a scanned epoch carries them)
            new_state = jax.tree_util.tree_map(lambda new, old: jnp.asarray(new).astype(old.dtype), new_state, state)
        return *to_float32((loss, metrics)), new_state

    def _normalised(self, out: Any) -> tuple[jax.Array, dict, Any]:
        new_state = None
        if self.takes_state:
            if not (isinstance(out, tuple) and len(out) == 3):
                raise TypeError("a loss_fn that takes `state` must return (loss, metrics, new_state)")
            loss, metrics, new_state = out
        else:
            loss, metrics = out if isinstance(out, tuple) else (out, {})
        if jnp.shape(loss) != ():
            raise ValueError(
                f"loss_fn must return a scalar loss (or a (loss, metrics) pair), got a loss of shape "
                f"{tuple(jnp.shape(loss))}; reduce it, e.g. with reduction='mean'"
            )
        if not isinstance(metrics, Mapping):
            raise TypeError(f"loss_fn's metrics must be a dict of scalars, got {type(metrics).__name__}")
        return loss, dict(metrics), new_state

    def _keywords(self, key: jax.Array | None, train: bool, state: Any) -> dict[str, Any]:
        """The keywords this loss accepts, or an error that says how to make the state it needs."""
        keywords: dict[str, Any] = {}
        if self.takes_train:
            keywords["train"] = train
        if self.takes_state:
            if state is None:
                raise ValueError(
                    "loss_fn threads the model's state (running statistics, e.g. BatchNorm) but got none: create the "
                    "TrainState with nx.TrainState.create(params, optimizer, model_state=model.init_state())"
                )
            keywords["state"] = state
        if key is not None and self.takes_key:
            keywords["key"] = key
        elif self.needs_key:
            raise ValueError(
                "loss_fn takes a `key` but the TrainState has none: "
                "create it with nx.TrainState.create(params, optimizer, key=0)"
            )
        return keywords
