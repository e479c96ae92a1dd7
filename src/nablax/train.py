"""Training as pure functions: a `TrainState` pytree and jitted steps built from a loss.

A loss function has the signature `loss_fn(params, batch) -> loss` or `-> (loss, metrics)`,
where `metrics` is a dict of scalars. It may also accept the keywords:

- `key`: a fresh PRNG key for each training step (dropout), drawn from the state's key;
- `train`: `True` in training steps, `False` in evaluation;
- `state`: the model's state (BatchNorm's running statistics, `TrainState.model_state`);
  such a loss returns `(loss, metrics, new_state)`, and training steps keep `new_state`.

`make_train_step` turns it into one compiled `step(state, batch) -> (state, metrics)`; any
optax `GradientTransformation` does the update.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
import numpy as np
import optax

from ._objective import Objective
from ._train_step import TrainStep
from ._update import Metrics, StepUpdate
from .data import Data, batches, num_examples
from .parallel.steps import MeshLayout, ShardedEvalStep
from .precision import Precision, as_precision, half_to_float32
from .train_state import TrainState, check_optimizer

__all__ = ["TrainState", "make_train_step", "make_eval_step", "evaluate", "supervised_loss", "loss_first",
           "check_optimizer", "check_accumulate", "check_ema_decay"]


def make_train_step(loss_fn: Callable, optimizer: optax.GradientTransformation, *, donate: bool = True,
                    mesh: jax.sharding.Mesh | None = None, min_fsdp_size: int | None = None, accumulate: int = 1,
                    precision: Precision | str | None = None, ema: float | None = None,
                    ) -> Callable[[TrainState, Data], tuple[TrainState, Metrics]]:
    """Compiles one training step: gradients of `loss_fn` by `jax.value_and_grad`, an update
    by `optimizer`. Returns `step(state, batch) -> (state, metrics)`, with `metrics["loss"]`
    the loss before the update (and `metrics["lr"]`, the learning rate of the update, when
    the optimizer was made by `optax.inject_hyperparams`).

    `accumulate=k` splits each batch into `k` equal microbatches and runs them one after
    another inside the compiled step, a `lax.scan` that sums their gradients: one update
    with the mean gradient, the update of the whole batch (exactly so for a loss that is a
    mean over examples, with no batch statistics), with the activations of one microbatch
    in memory at a time. Its metrics are the means over the microbatches.

    `precision` (`"bfloat16"`, `"float16"` or an `nx.Precision`) computes the loss and its
    gradients in that dtype while the parameters and the update stay float32; float16
    scales the loss dynamically, kept in `state.loss_scale` (see `nablax.precision`).

    `ema=decay` keeps an exponential moving average of the parameters in
    `state.ema_params`, updated inside the step after each update:
    `decay * ema_params + (1 - decay) * params`. Make the state with
    `nx.TrainState.create(..., ema=True)` (and `precision=` for a loss scale).

    With `donate=True` the input state's buffers are reused for the output (less memory, no
    copies), so the old state must not be used after the call.

    With a `mesh` (`nx.parallel.data_mesh()`, `nx.parallel.mesh(...)`) the step runs on all
    its devices: each call splits the batch (each process's rows of the global batch) along
    `'data'` and places the state by `nx.parallel.parameter_spec` (parameters with at least
    `min_fsdp_size` elements split along `'model'`); XLA reduces the gradients.

        >>> import jax.numpy as jnp, optax, nablax as nx
        >>> loss_fn = lambda w, batch: nx.losses.mse(w * batch[0], batch[1])
        >>> step = nx.make_train_step(loss_fn, optax.sgd(0.1))
        >>> state = nx.TrainState.create(jnp.float32(0.0), optax.sgd(0.1))
        >>> state, metrics = step(state, (jnp.array([1.0, 2.0]), jnp.array([2.0, 4.0])))
        >>> float(metrics["loss"]), float(state.params), state.step
        (10.0, 1.0, 1)
    """
    layout = None if mesh is None else MeshLayout(mesh, min_fsdp_size)
    update = StepUpdate(Objective(loss_fn, as_precision(precision)), check_optimizer(optimizer), layout=layout,
                        accumulate=check_accumulate(accumulate), ema_decay=check_ema_decay(ema))
    train_step = TrainStep(update, donate=donate)

    # A plain function around the step's chosen path: calling an instance of a class costs an
    # argument tuple, a method lookup and a frame more, about 0.4 us, 2% of a tiny model's step.
    def step(state: TrainState, batch: Data) -> tuple[TrainState, Metrics]:
        return train_step.run(state, batch)

    step.__doc__ = TrainStep.__doc__
    step.__wrapped__ = train_step  # what `inspect.unwrap` finds: the programs and paths
    return step


def make_eval_step(loss_fn: Callable, *, mesh: jax.sharding.Mesh | None = None, min_fsdp_size: int | None = None,
                   precision: Precision | str | None = None):
    """Compiles `eval_step(state_or_params, batch) -> metrics`: the loss and metrics of
    `loss_fn` with `train=False` and no randomness (in `precision`'s compute dtype, as
    `make_train_step`). A loss with model state needs a `TrainState` (its `model_state` is
    used, not changed). With a `mesh`, the state and batches are placed as `make_train_step`
    places them."""
    objective = Objective(loss_fn, as_precision(precision))

    def evaluate_batch(model: tuple[Any, Any], batch: Data):
        params, model_state = model
        loss, metrics, _ = objective(params, batch, key=None, train=False, state=model_state)
        return {"loss": loss, **metrics}

    compiled = jax.jit(evaluate_batch) if mesh is None else ShardedEvalStep(evaluate_batch, mesh, min_fsdp_size=min_fsdp_size)

    def eval_step(state: TrainState | Any, batch: Data):
        # Only what the loss reads goes to the program (not the step count, which changes).
        model = (state.params, state.model_state) if isinstance(state, TrainState) else (state, None)
        return compiled(model, batch)

    return eval_step


def evaluate(eval_step: Callable, state: TrainState | Any, data: Data, *, batch_size: int | None = None) -> dict[str, float]:
    """Runs `eval_step` over `data` in batches (all at once when `batch_size` is None) and
    returns each metric averaged over examples. Metrics are taken to be per-batch means."""
    totals: dict[str, float] = {}
    count = 0
    size = batch_size or num_examples(data)
    for batch in batches(data, size):
        weight = np.shape(jax.tree_util.tree_leaves(batch)[0])[0]
        for name, value in eval_step(state, batch).items():
            totals[name] = totals.get(name, 0.0) + float(value) * weight
        count += weight
    return loss_first({name: total / count for name, total in totals.items()})


def loss_first(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """`metrics` with the loss first and the rest by name (jit returns dicts sorted by key)."""
    return {name: metrics[name] for name in sorted(metrics, key=lambda name: (name != "loss", name))}


def supervised_loss(model: Any, criterion: Callable, *, metrics: Mapping[str, Callable] | None = None) -> Callable:
    """The loss of a model on `(inputs, targets)` batches: `criterion(model(x), y)`, plus
    `metrics` computed from the same outputs (in float32 when the model computes in a
    half-precision dtype). For a model with state (`model.has_state`,
    e.g. BatchNorm) the loss takes and returns the state, as the train steps expect; the
    function's `.model` is the model, so `fit` can make its initial state.

        >>> import nablax as nx
        >>> loss_fn = nx.supervised_loss(nx.nn.MLP([4, 8, 3]), nx.losses.cross_entropy,
        ...                              metrics={"accuracy": nx.metrics.accuracy})
    """
    metrics = dict(metrics or {})

    def scores(outputs, targets):
        outputs = half_to_float32(outputs)  # a half-precision model's: the loss in float32, as under torch.autocast
        return criterion(outputs, targets), {name: fn(outputs, targets) for name, fn in metrics.items()}

    if getattr(model, "has_state", False):

        def loss_fn(params: Any, batch: Data, *, state: Any, key: jax.Array | None = None, train: bool = False):
            inputs, targets = batch
            outputs, new_state = model.apply(params, inputs, state=state, key=key, train=train)
            return (*scores(outputs, targets), new_state)

    else:

        def loss_fn(params: Any, batch: Data, *, key: jax.Array | None = None, train: bool = False):
            inputs, targets = batch
            return scores(model.apply(params, inputs, key=key, train=train), targets)

    loss_fn.model = model
    return loss_fn


def check_accumulate(accumulate: Any) -> int:
    """`accumulate` if it is a positive int, else an error that says what to pass."""
    if not isinstance(accumulate, (int, np.integer)) or isinstance(accumulate, bool) or accumulate < 1:
        raise ValueError(f"accumulate must be a positive int (microbatches per step), got {accumulate!r}")
    return int(accumulate)


def check_ema_decay(decay: Any) -> float | None:
    """`decay` as a float in [0, 1) (None: no moving average), else an error."""
    if decay is None:
        return None
    if isinstance(decay, bool) or not isinstance(decay, (int, float, np.floating)) or not 0 <= decay < 1:
        raise ValueError(f"ema must be a decay in [0, 1), e.g. ema=0.999, got {decay!r}")
    return float(decay)
