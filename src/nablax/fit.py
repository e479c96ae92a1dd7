"""`fit`: train for N epochs, each epoch one compiled `lax.scan` over its batches when the
data fits on the device (one jitted step per batch otherwise)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from . import checkpoint
from ._keys import as_key
from ._progress import Progress
from .data import Data, batches_in_order, check_batch_size, epoch_key, epoch_order, num_examples, stack_batches
from .parallel.fitting import check_fit_on_mesh
from .parallel.layout import global_num_examples, shard_data, shard_state
from .parallel.processes import gather_to_host, is_main_process
from .train import TrainState, _Objective, evaluate, loss_first, make_eval_step, make_train_step

# Above this share of the device's memory the data is kept on the host and fed batch by batch.
_DEVICE_SHARE_FOR_DATA = 0.25
_HOST_DEVICE_BYTES = 4 << 30  # CPU devices report no memory limit; assume a modest budget
# Fused epochs of a state up to this size run one ahead: the next epoch starts before this
# one's metrics are read (and checked, logged, evaluated), so the device does not wait for
# the host between epochs. That holds two states at once, which larger states are spared:
# their epochs are long enough that the wait does not show.
_PIPELINED_STATE_BYTES = 64 << 20


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
        return steady_seconds_per_step(self.epoch_seconds, self.steps_per_epoch)

    def _append(self, metrics: dict[str, float]) -> None:
        for name, value in metrics.items():
            self.setdefault(name, []).append(value)


def steady_seconds_per_step(epoch_seconds: list[float], steps_per_epoch: int) -> float:
    """The median epoch time per step, leaving out the first (compiling) epoch when there
    are others."""
    timed = epoch_seconds[1:] or epoch_seconds
    return float(np.median(timed)) / max(steps_per_epoch, 1)


def _nbytes(tree: Any) -> int:
    """The bytes of every leaf of `tree` (arrays, or anything NumPy can make one of)."""
    return sum(getattr(leaf, "nbytes", None) or np.asarray(leaf).nbytes for leaf in jax.tree_util.tree_leaves(tree))


def fits_on_device(data: Data) -> bool:
    """Whether `data` is small enough to live on the default device for a fused epoch."""
    nbytes = _nbytes(data)
    stats = jax.devices()[0].memory_stats() or {}
    budget = stats.get("bytes_limit", _HOST_DEVICE_BYTES)
    return nbytes <= _DEVICE_SHARE_FOR_DATA * budget


class FusedEpoch(NamedTuple):
    """One compiled epoch (see `_make_fused_epoch`), in two versions: `donating` reuses the
    input state's buffers for the output, `keeping` leaves the input state valid, so the
    next epoch can start before this one's metrics are read."""

    donating: Callable
    keeping: Callable


def _make_fused_epoch(train_step: Callable, batch_size: int, drop_last: bool) -> FusedEpoch:
    """One compiled epoch: shuffle, stack the full batches, scan the step over them, and run
    the remainder batch (unless `drop_last`) as one more step. Returns the state, the stacked
    metrics of the full batches and the remainder's metrics (None without a remainder)."""

    def run_epoch(state: TrainState, data: Data, key: jax.Array | None, epoch):
        # The epoch's key is derived here, inside the compiled program: done eagerly it would
        # cost a dispatch (~0.1 ms) per epoch, as much as a tiny model's whole epoch of steps.
        shuffle_key = None if key is None else jax.random.fold_in(key, epoch)
        stacked, remainder = stack_batches(data, batch_size, key=shuffle_key)
        state, metrics = jax.lax.scan(train_step, state, stacked)
        last = None
        if remainder is not None and not drop_last:
            state, last = train_step(state, remainder)
        return state, metrics, last

    return FusedEpoch(jax.jit(run_epoch, donate_argnums=(0,)), jax.jit(run_epoch))


def _compile(loss_fn: Callable, optimizer: optax.GradientTransformation, batch_size: int, drop_last: bool,
             mesh=None, min_fsdp_size=None):
    train_step = make_train_step(loss_fn, optimizer, mesh=mesh, min_fsdp_size=min_fsdp_size)
    eval_step = make_eval_step(loss_fn, mesh=mesh, min_fsdp_size=min_fsdp_size)
    return train_step, _make_fused_epoch(train_step, batch_size, drop_last), eval_step


# Repeated `fit` calls with the same loss and optimizer reuse their compiled programs.
_compile_cached = functools.lru_cache(maxsize=16)(_compile)


def _compiled(loss_fn, optimizer, batch_size, drop_last, mesh=None, min_fsdp_size=None):
    try:
        hash((loss_fn, optimizer))
    except TypeError:  # an unhashable loss or optimizer: compile afresh
        return _compile(loss_fn, optimizer, batch_size, drop_last, mesh, min_fsdp_size)
    return _compile_cached(loss_fn, optimizer, batch_size, drop_last, mesh, min_fsdp_size)


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
    mesh: jax.sharding.Mesh | None = None,
    min_fsdp_size: int | None = None,
    checkpoint_dir=None,
    checkpoint_every: int = 1,
    keep_checkpoints: int | None = 3,
    resume: bool = False,
    on_nonfinite: str = "raise",
) -> tuple[TrainState, History]:
    """Trains for `epochs` epochs over `data` and returns the final state and a `History`.

    `state` is a `TrainState` or a params pytree (then `TrainState.create` is called, with a
    key split from `key` when `loss_fn` takes one, and `model_state` — by default the model's
    `init_state()` when `loss_fn` came from `supervised_loss` — when it threads model state). Each epoch shuffles with
    `nx.data.epoch_key(key, epoch)`. `fused=None` runs each epoch as one compiled `lax.scan`
    when the data fits on the device; `True`/`False` force either way (with a state up to 64 MiB,
    fused epochs run one ahead: the next starts while this one's metrics are read, checked
    and logged, with the same results). `progress=None` shows a
    tqdm bar on a terminal and plain per-epoch lines elsewhere; `False` is silent (and other
    processes than process 0 are always silent). The state passed in stays valid: `fit`
    trains a copy.

    With a `mesh` (`nx.parallel.data_mesh()`, `nx.parallel.mesh(...)`) every batch is split
    along its `'data'` axis and the state placed as `nx.make_train_step(..., mesh=mesh)`
    places it. `batch_size` stays the global batch, and `data` is this process's rows
    (`nx.parallel.process_shard(data, mesh)`; on one process, all of it), so one script gives the same
    parameters on one device, several, or several hosts.

    With `checkpoint_dir`, the state is saved there (`nx.checkpoint`, safetensors) every
    `checkpoint_every` epochs and after the last, keeping the newest `keep_checkpoints`;
    `resume=True` starts from the newest checkpoint found there, at the epoch it reached, so
    an interrupted run finishes with the parameters an uninterrupted one would have (the
    returned `History` then covers the epochs run in this call). A loss that is nan or
    infinite stops training with a `FloatingPointError` naming the step (the error's
    `state` and `history` hold where it got to); `on_nonfinite="continue"` trains on.

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
    n = num_examples(data) if mesh is None else global_num_examples(data, mesh)
    check_batch_size(batch_size, n, drop_last)
    if mesh is not None:
        fused = check_fit_on_mesh(mesh, n, batch_size=batch_size, drop_last=drop_last, fused=fused)
    if not is_main_process():
        progress = False  # one report per run, from process 0
    if on_nonfinite not in ("raise", "continue"):
        raise ValueError(f"fit: on_nonfinite must be 'raise' or 'continue', got {on_nonfinite!r}")
    if not isinstance(checkpoint_every, int) or checkpoint_every < 1:
        raise ValueError(f"fit: checkpoint_every must be a positive int (epochs), got {checkpoint_every!r}")
    if resume and checkpoint_dir is None:
        raise ValueError("fit: resume=True needs checkpoint_dir, the folder the checkpoints are in")
    if shuffle and key is None:
        raise ValueError("fit shuffles every epoch with an explicit PRNG key: pass key=0 (or any jax.random.key), or shuffle=False")
    base_key = as_key(0 if key is None else key)
    if isinstance(state, TrainState):
        # Compiled epochs of a large state donate their input state; train on a copy so the caller's lives on.
        state = jax.tree_util.tree_map(jnp.copy, state)
    else:
        objective = _Objective(loss_fn)
        model_key = jax.random.split(base_key)[1] if objective.takes_key else None
        if model_state is None and objective.takes_state and hasattr(loss_fn, "model"):
            model_state = loss_fn.model.init_state()  # a supervised_loss knows its model
        state = TrainState.create(state, optimizer, key=model_key, model_state=model_state)

    train_step, run_epoch, eval_step = _compiled(loss_fn, optimizer, batch_size, drop_last, mesh, min_fsdp_size)
    if eval_data is not None:
        num_examples(eval_data)  # validate before the first epoch, not after it
    if fused is None:
        fused = fits_on_device(data)
    if fused:
        device_data = jax.device_put(data) if mesh is None else shard_data(data, mesh)

    first_epoch = 0
    if resume:
        state, first_epoch = checkpoint.resume(checkpoint_dir, like=state)
    if mesh is not None:
        state = shard_state(state, mesh, min_fsdp_size)  # after resuming: a loaded checkpoint lies on one device

    # The step count stays a host int (see TrainState): the compiled epoch leaves it alone
    # and it is advanced here, by the number of steps each epoch takes.
    state = state._replace(step=int(state.step))
    steps_per_epoch = n // batch_size + (0 if drop_last or n % batch_size == 0 else 1)
    epoch_key_base = base_key if shuffle else None
    pipelined = fused and _nbytes(state) <= _PIPELINED_STATE_BYTES
    compiled_epoch = run_epoch.keeping if pipelined else run_epoch.donating

    def launch(state: TrainState, epoch: int):
        """Dispatches one fused epoch (JAX returns before it has run). Its shuffle key,
        `epoch_key(base_key, epoch)`, is made inside the program."""
        new_state, full, last = compiled_epoch(state, device_data, epoch_key_base, epoch)
        return new_state._replace(step=state.step + steps_per_epoch), full, last

    history = History()
    report = Progress(epochs, progress)
    ahead = None  # the next epoch, already dispatched (pipelined)
    finished = time.perf_counter()
    try:
        for epoch in range(first_epoch, epochs):
            # A pipelined epoch started while the host was busy with the one before: its time
            # runs from when that one finished.
            start = finished if ahead is not None else time.perf_counter()
            if fused:
                state, full, last = ahead if ahead is not None else launch(state, epoch)
                ahead = launch(state, epoch + 1) if pipelined and epoch + 1 < epochs else None
            else:
                shuffle_key = epoch_key(base_key, epoch) if shuffle else None
                state, full, last = _run_host_epoch(train_step, state, data, batch_size, drop_last, shuffle_key)
            epoch_metrics = _record_steps(history, full, last, batch_size, n % batch_size)  # waits for the epoch
            finished = time.perf_counter()
            history.epoch_seconds.append(finished - start)
            if on_nonfinite == "raise":
                _stop_on_nonfinite_loss(history, state, epoch)  # (an epoch run ahead is dropped)
            if eval_data is not None:
                evaluated = evaluate(eval_step, state, eval_data, batch_size=eval_batch_size)
                epoch_metrics.update({f"val_{name}": value for name, value in evaluated.items()})
            history._append(epoch_metrics)
            report.epoch_done(epoch, epoch_metrics, history.epoch_seconds[-1])
            if checkpoint_dir is not None and ((epoch + 1) % checkpoint_every == 0 or epoch + 1 == epochs):
                whole_state = gather_to_host(state)  # every process takes part; process 0 writes
                if is_main_process():
                    checkpoint.save_epoch(checkpoint_dir, whole_state, epoch + 1, keep=keep_checkpoints)
    finally:
        report.close()
    return state, history


def _stop_on_nonfinite_loss(history: History, state: TrainState, epoch: int) -> None:
    """Raises a `FloatingPointError` naming the first step of this epoch whose loss is nan or
    infinite; the error carries the state and history reached."""
    losses = history.steps[next(iter(history.steps))][-history.steps_per_epoch:]
    bad = np.flatnonzero(~np.isfinite(losses))
    if bad.size == 0:
        return
    batch = int(bad[0])
    step = int(state.step) - len(losses) + batch + 1
    error = FloatingPointError(
        f"fit: the loss is {losses[batch]} at step {step} (epoch {epoch + 1}, batch {batch + 1}); training stopped. "
        "Lower the learning rate or look for nan/inf in the data; on_nonfinite='continue' trains on regardless."
    )
    error.state, error.history = state, history
    raise error


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
