"""A training step's arithmetic, as one pure function of the arrays it changes.

`StepUpdate(carried, key, step, batch) -> (carried, metrics)`: the gradients of the loss
(over `accumulate` microbatches, in the precision's compute dtype, with the loss scaled when
the precision scales it), one optimizer update (skipped when scaled gradients overflow),
and the parameters' moving average. `TrainStep` calls it from each of its paths.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.sharding import NamedSharding, PartitionSpec

from ._objective import Objective
from .data import Data
from .parallel.meshes import DATA_AXIS
from .parallel.steps import MeshLayout
from .precision import LossScale, all_finite

Metrics = dict[str, jax.Array]


class Carried(NamedTuple):
    """The arrays a training step changes; None for what the step does not keep."""

    params: Any
    opt_state: Any
    model_state: Any = None
    ema_params: Any = None
    loss_scale: LossScale | None = None


class StepUpdate:
    """The step's arithmetic for one loss, optimizer and configuration."""

    def __init__(self, objective: Objective, optimizer: optax.GradientTransformation, *, layout: MeshLayout | None,
                 accumulate: int, ema_decay: float | None):
        self.objective = objective
        self.optimizer = optimizer
        self.layout = layout
        self.accumulate = accumulate
        self.ema_decay = ema_decay
        self.precision = objective.precision
        self.scales_loss = self.precision is not None and self.precision.loss_scaling

    def __call__(self, carried: Carried, key: jax.Array | None, step, batch: Data) -> tuple[Carried, Metrics]:
        """`carried` after one step on `batch`, and the step's metrics (the loss before the
        update, the loss function's metrics, `lr` when the optimizer state holds one, and
        `loss_scale` when the loss is scaled). `step` only derives this step's key."""
        if self.layout is not None:
            carried = self.layout.constrain_state(carried)
            batch = self.layout.constrain_batch(batch)
        step_key = None if key is None else jax.random.fold_in(key, step)
        scale = carried.loss_scale.scale if self.scales_loss else None
        grads, metrics, model_state = self.gradients(carried.params, carried.model_state, step_key, batch, scale)
        updates, opt_state = self.optimizer.update(grads, carried.opt_state, carried.params)
        params = optax.apply_updates(carried.params, updates)
        metrics.update(learning_rate(opt_state))
        loss_scale = carried.loss_scale
        if scale is not None:
            # Overflowing gradients: skip the update, lower the scale.
            finite = all_finite(grads)
            params, opt_state = jax.tree_util.tree_map(lambda new, old: jnp.where(finite, new, old),
                                                       (params, opt_state), (carried.params, carried.opt_state))
            loss_scale = self.precision.adjusted(carried.loss_scale, finite)
            metrics["loss_scale"] = scale
        ema_params = None if self.ema_decay is None else moving_average(carried.ema_params, params, self.ema_decay)
        carried = Carried(params, opt_state, model_state, ema_params, loss_scale)
        if self.layout is not None:
            carried = self.layout.constrain_state(carried)
        return carried, metrics

    def gradients(self, params, model_state, key, batch: Data, scale) -> tuple[Any, Metrics, Any]:
        """`(grads, metrics, model_state)` of the whole batch: of one pass, or the mean over
        `accumulate` equal microbatches run one after another by a `lax.scan` (the model
        state threaded through them, each with its own key)."""
        if self.accumulate == 1:
            return self._gradients_of(params, model_state, key, batch, scale)

        def add_microbatch(carry, inputs):
            total, model_state = carry
            index, microbatch = inputs
            micro_key = None if key is None else jax.random.fold_in(key, index)
            grads, metrics, model_state = self._gradients_of(params, model_state, micro_key, microbatch, scale)
            return (jax.tree_util.tree_map(jnp.add, total, grads), model_state), metrics

        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        microbatches = split_microbatches(batch, self.accumulate)
        if self.layout is not None:
            microbatches = jax.lax.with_sharding_constraint(
                microbatches, NamedSharding(self.layout.mesh, PartitionSpec(None, DATA_AXIS)))
        (total, model_state), metrics = jax.lax.scan(add_microbatch, (zeros, model_state),
                                                     (jnp.arange(self.accumulate), microbatches))
        mean = lambda tree: jax.tree_util.tree_map(lambda value: jnp.mean(value, axis=0), tree)  # noqa: E731
        return jax.tree_util.tree_map(lambda g: g / self.accumulate, total), mean(metrics), model_state

    def _gradients_of(self, params, model_state, key, batch: Data, scale) -> tuple[Any, Metrics, Any]:
        def loss_of(params):
            loss, metrics, new_model_state = self.objective(params, batch, key=key, train=True, state=model_state)
            return (loss if scale is None else loss * scale), (loss, metrics, new_model_state)

        (_, (loss, metrics, model_state)), grads = jax.value_and_grad(loss_of, has_aux=True)(params)
        if scale is not None:
            grads = jax.tree_util.tree_map(lambda g: g / scale, grads)
        return grads, {"loss": loss, **metrics}, model_state


def split_microbatches(batch: Data, count: int) -> Data:
    """`batch` as `[count, rows // count, ...]`: microbatch `i` holds rows `i, i + count, ...`
    (strided, so that on a mesh every device holds its share of each microbatch)."""

    def split(leaf):
        rows = jnp.shape(leaf)[0]
        if rows % count:
            raise ValueError(
                f"make_train_step(accumulate={count}): a batch of {rows} examples does not split into {count} "
                f"microbatches of equal size; use batches of a multiple of {count} examples (with fit, a "
                f"batch_size that is one, and drop_last=True if the last batch is not)"
            )
        return jnp.swapaxes(jnp.reshape(leaf, (rows // count, count) + jnp.shape(leaf)[1:]), 0, 1)

    return jax.tree_util.tree_map(split, batch)


def moving_average(average: Any, params: Any, decay: float) -> Any:
    """`decay * average + (1 - decay) * params`, leaf by leaf."""
    return jax.tree_util.tree_map(lambda a, p: decay * a + (1 - decay) * p, average, params)


def learning_rate(opt_state: Any) -> Metrics:
    """`{"lr": value}` when the optimizer state holds a learning rate (an optimizer made by
    `optax.inject_hyperparams`, anywhere in a chain): the rate of the update just made."""
    for path, value in optax.tree_utils.tree_get_all_with_path(opt_state, "learning_rate"):
        if any(getattr(entry, "name", None) == "hyperparams" for entry in path) and hasattr(value, "dtype"):
            return {"lr": value}
    return {}
