"""`fit`: train for N epochs, each epoch one compiled `lax.scan` over its batches when the
data fits on the device (one jitted step per batch otherwise)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._keys import as_key
from ._progress import Progress
from .data import Data, batches_in_order, check_batch_size, epoch_key, epoch_order, num_examples, stack_batches
from .train import TrainState, _Objective, evaluate, loss_first, make_eval_step, make_train_step

# Above this share of the device's memory the data is kept on the host and fed batch by batch.
_DEVICE_SHARE_FOR_DATA = 0.25
_HOST_DEVICE_BYTES = 4 << 30  # CPU devices report no memory limit; assume a modest budget


class History(dict):
    """Per-epoch metrics of a `fit` run: `history["loss"][e]` is the mean training loss of
    epoch `e`; evaluation metrics carry a `val_` prefix.

    `steps` holds every step's metrics (one array per name), `epoch_seconds` the wall time of
    each epoch (the first includes compilation) and `steps_per_epoch` the number of steps.
    """

    def __init__(self):
        super().__init__()
        self.steps: dict[str, np.ndarray] = {}
        self.epoch_seconds: list[float] = []
        self.steps_per_epoch = 0

    def seconds_per_step(self) -> float:
        """Median time of a training step, leaving out the first (compiling) epoch when there
        are others."""
        timed = self.epoch_seconds[1:] or self.epoch_seconds
        return float(np.median(timed)) / max(self.steps_per_epoch, 1)

    def _append(self, metrics: dict[str, float]) -> None:
        for name, value in metrics.items():
            self.setdefault(name, []).append(value)


def fits_on_device(data: Data) -> bool:
    """Whether `data` is small enough to live on the default device for a fused epoch."""
    nbytes = sum(getattr(leaf, "nbytes", None) or np.asarray(leaf).nbytes for leaf in jax.tree_util.tree_leaves(data))
    stats = jax.devices()[0].memory_stats() or {}
    budget = stats.get("bytes_limit", _HOST_DEVICE_BYTES)
    return nbytes <= _DEVICE_SHARE_FOR_DATA * budget


def _make_fused_epoch(train_step: Callable, batch_size: int, drop_last: bool):
    """One compiled epoch: shuffle, stack the full batches, scan the step over them, and run
    the remainder batch (unless `drop_last`) as one more step. Returns the state, the stacked
    metrics of the full batches and the remainder's metrics (None without a remainder)."""

    def run_epoch(state: TrainState, data: Data, key: jax.Array | None):
        stacked, remainder = stack_batches(data, batch_size, key=key)
        state, metrics = jax.lax.scan(train_step, state, stacked)
        last = None
        if remainder is not None and not drop_last:
            state, last = train_step(state, remainder)
        return state, metrics, last

    return jax.jit(run_epoch, donate_argnums=(0,))


def _compile(loss_fn: Callable, optimizer: optax.GradientTransformation, batch_size: int, drop_last: bool):
    train_step = make_train_step(loss_fn, optimizer)
    return train_step, _make_fused_epoch(train_step, batch_size, drop_last), make_eval_step(loss_fn)


# Repeated `fit` calls with the same loss and optimizer reuse their compiled programs.
_compile_cached = functools.lru_cache(maxsize=16)(_compile)


def _compiled(loss_fn, optimizer, batch_size, drop_last):
    try:
        hash((loss_fn, optimizer))
    except TypeError:  # an unhashable loss or optimizer: compile afresh
        return _compile(loss_fn, optimizer, batch_size, drop_last)
    return _compile_cached(loss_fn, optimizer, batch_size, drop_last)


def _run_host_epoch(train_step: Callable, state: TrainState, data: Data, batch_size: int, drop_last: bool, key):
    """The same epoch as `_make_fused_epoch`'s, one jitted step per batch fed from the host."""
    metrics = []
    last = None
    order = epoch_order(num_examples(data), key)
    for batch in batches_in_order(data, order, batch_size, drop_last=drop_last):
        state, step_metrics = train_step(state, batch)
        if num_examples(batch) < batch_size:
            last = step_metrics
        else:
            metrics.append(step_metrics)
    stacked = jax.tree_util.tree_map(lambda *values: np.stack([np.asarray(v) for v in values]), *metrics) if metrics else {}
    return state, stacked, last


def fit(
    loss_fn: Callable,
    optimizer: optax.GradientTransformation,
    state: TrainState | Any,
    data: Data,
    *,
    epochs: int,
    batch_size: int,
    key=None,
    shuffle: bool = True,
    drop_last: bool = False,
    eval_data: Data | None = None,
    eval_batch_size: int | None = None,
    fused: bool | None = None,
    progress: bool | None = None,
    model_state=None,
) -> tuple[TrainState, History]:
    """Trains for `epochs` epochs over `data` and returns the final state and a `History`.

    `state` is a `TrainState` or a params pytree (then `TrainState.create` is called, with a
    key split from `key` when `loss_fn` takes one, and `model_state` — by default the model's
    `init_state()` when `loss_fn` came from `supervised_loss` — when it threads model state). Each epoch shuffles with
    `nx.data.epoch_key(key, epoch)`. `fused=None` runs each epoch as one compiled `lax.scan`
    when the data fits on the device; `True`/`False` force either way. `progress=None` shows a
    tqdm bar on a terminal and plain per-epoch lines elsewhere; `False` is silent.
    The state passed in stays valid: `fit` trains a copy.

        >>> import jax.numpy as jnp, optax, nablax as nx
        >>> x = jnp.linspace(-1, 1, 32).reshape(-1, 1); y = 3 * x
        >>> loss_fn = nx.supervised_loss(nx.nn.Linear(1, 1), nx.losses.mse)
        >>> state, history = nx.fit(loss_fn, optax.sgd(0.5), nx.nn.Linear(1, 1).init(0), (x, y),
        ...                         epochs=20, batch_size=8, key=0, progress=False)
        >>> min(history["loss"]) < 1e-4
        True
    """
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative int, got {epochs!r}")
    n = num_examples(data)
    check_batch_size(batch_size, n, drop_last)
    if shuffle and key is None:
        raise ValueError("fit shuffles every epoch with an explicit PRNG key: pass key=0 (or any jax.random.key), or shuffle=False")
    base_key = as_key(0 if key is None else key)
    if isinstance(state, TrainState):
        # The compiled epochs donate their input state; train on a copy so the caller's lives on.
        state = jax.tree_util.tree_map(jnp.copy, state)
    else:
        objective = _Objective(loss_fn)
        model_key = jax.random.split(base_key)[1] if objective.takes_key else None
        if model_state is None and objective.takes_state and hasattr(loss_fn, "model"):
            model_state = loss_fn.model.init_state()  # a supervised_loss knows its model
        state = TrainState.create(state, optimizer, key=model_key, model_state=model_state)

    train_step, run_epoch, eval_step = _compiled(loss_fn, optimizer, batch_size, drop_last)
    if eval_data is not None:
        num_examples(eval_data)  # validate before the first epoch, not after it
    if fused is None:
        fused = fits_on_device(data)
    if fused:
        device_data = jax.device_put(data)

    history = History()
    report = Progress(epochs, progress)
    try:
        for epoch in range(epochs):
            start = time.perf_counter()
            shuffle_key = epoch_key(base_key, epoch) if shuffle else None
            if fused:
                state, full, last = run_epoch(state, device_data, shuffle_key)
            else:
                state, full, last = _run_host_epoch(train_step, state, data, batch_size, drop_last, shuffle_key)
            epoch_metrics = _record_steps(history, full, last, batch_size, n % batch_size)
            history.epoch_seconds.append(time.perf_counter() - start)
            if eval_data is not None:
                evaluated = evaluate(eval_step, state, eval_data, batch_size=eval_batch_size)
                epoch_metrics.update({f"val_{name}": value for name, value in evaluated.items()})
            history._append(epoch_metrics)
            report.epoch_done(epoch, epoch_metrics, history.epoch_seconds[-1])
    finally:
        report.close()
    return state, history


def _record_steps(history: History, full: dict, last: dict | None, batch_size: int, last_size: int) -> dict[str, float]:
    """Moves one epoch's step metrics to the host, appends them to `history.steps` and returns
    their means weighted by the number of examples in each batch."""
    means = {}
    for name in loss_first(last or full):
        values = np.asarray(full[name]) if name in full else np.zeros(0, np.float32)
        weights = np.full(len(values), float(batch_size))
        if last is not None:
            values = np.append(values, np.asarray(last[name]))
            weights = np.append(weights, float(last_size))
        history.steps[name] = np.concatenate([history.steps[name], values]) if name in history.steps else values
        means[name] = float(np.sum(values * weights) / np.sum(weights))
        history.steps_per_epoch = len(values)
    return means
