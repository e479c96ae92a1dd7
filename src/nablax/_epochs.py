"""How `fit` runs its epochs: three runners behind one interface.

A runner's `run(state, epochs)` trains one epoch after another and yields an `EpochResult`
for each: the state after it, every step's metrics on the host, and its time. `fit` may stop
taking results at any epoch (a callback stopped it, the loss was not finite).

- `HostFedEpochs`: the data stays on the host, each batch is one jitted step;
- `FusedEpochs`: each epoch (shuffle, every step, the last partial batch) is one compiled
  program around a `lax.scan`, over data kept on the device;
- `RunAheadEpochs`: fused epochs dispatched one ahead, so the device does not wait while
  the host reads, checks and logs an epoch's metrics.

All three visit the batches in the same order (`nx.data.epoch_order` with the epoch's key)
and give the same parameters.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, Protocol

import jax
import numpy as np

from .data import Data, batches_in_order, epoch_key, epoch_order, num_examples, stack_batches
from .parallel.layout import shard_data
from .train import loss_first
from .train_state import TrainState

# Above this share of the device's memory the data is kept on the host and fed batch by batch.
_DEVICE_SHARE_FOR_DATA = 0.25
_HOST_DEVICE_BYTES = 4 << 30  # CPU devices report no memory limit; assume a modest budget
# Fused epochs of a state up to this size run one ahead. That holds two states at once, which
# larger states are spared: their epochs are long enough that the wait does not show.
RUN_AHEAD_STATE_BYTES = 64 << 20


class EpochPlan(NamedTuple):
    """How each epoch batches the data."""

    num_examples: int
    batch_size: int
    drop_last: bool
    shuffle_key: jax.Array | None  # the run's key; epoch `e` shuffles with `epoch_key(shuffle_key, e)`

    @property
    def last_size(self) -> int:
        """The examples in the last, partial batch (0 when there is none)."""
        return 0 if self.drop_last else self.num_examples % self.batch_size

    @property
    def steps_per_epoch(self) -> int:
        return self.num_examples // self.batch_size + (1 if self.last_size else 0)

    def key_of(self, epoch: int) -> jax.Array | None:
        return None if self.shuffle_key is None else epoch_key(self.shuffle_key, epoch)


class EpochResult(NamedTuple):
    epoch: int
    state: TrainState
    steps: dict[str, np.ndarray]  # every step's metrics, on the host, the loss first
    sizes: np.ndarray  # the examples in each step's batch
    seconds: float  # from the epoch's start (or the previous one's end, when run ahead) to its metrics on the host


class EpochRunner(Protocol):
    def run(self, state: TrainState, epochs: range) -> Iterator[EpochResult]: ...


def _steps_on_host(full: dict, last: dict | None, plan: EpochPlan) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One epoch's step metrics on the host, as `(metrics, sizes)`: `full` stacks the full
    batches' metrics, `last` is the partial batch's (None without one). Waits for the epoch."""
    steps = {}
    for name in loss_first(last or full):
        values = np.asarray(full[name]) if name in full else np.zeros(0, np.float32)
        steps[name] = values if last is None else np.append(values, np.asarray(last[name]))
    full_steps = len(next(iter(steps.values()))) - (last is not None)
    sizes = np.full(full_steps, plan.batch_size)
    return steps, sizes if last is None else np.append(sizes, plan.last_size)


class HostFedEpochs:
    """Each batch gathered on the host and run as one jitted step."""

    def __init__(self, train_step: Callable, data: Data, plan: EpochPlan):
        self.train_step, self.data, self.plan = train_step, data, plan

    def run(self, state: TrainState, epochs: range) -> Iterator[EpochResult]:
        plan = self.plan
        for epoch in epochs:
            start = time.perf_counter()
            full, last = [], None
            order = epoch_order(plan.num_examples, plan.key_of(epoch))
            for batch in batches_in_order(self.data, order, plan.batch_size, drop_last=plan.drop_last):
                state, metrics = self.train_step(state, batch)
                if num_examples(batch) < plan.batch_size:
                    last = metrics
                else:
                    full.append(metrics)
            stacked = jax.tree_util.tree_map(lambda *values: np.stack([np.asarray(v) for v in values]), *full) if full else {}
            steps, sizes = _steps_on_host(stacked, last, plan)
            yield EpochResult(epoch, state, steps, sizes, time.perf_counter() - start)


class FusedEpoch(NamedTuple):
    """One compiled epoch (see `compile_fused_epoch`), in two versions: `donating` reuses the
    input state's buffers for the output, `keeping` leaves the input state valid, so the
    next epoch can start before this one's metrics are read."""

    donating: Callable
    keeping: Callable


def compile_fused_epoch(train_step: Callable, batch_size: int, drop_last: bool) -> FusedEpoch:
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


class FusedEpochs:
    """Each epoch one compiled program over data on the device, one epoch at a time."""

    def __init__(self, program: Callable, device_data: Data, plan: EpochPlan):
        self.program, self.data, self.plan = program, device_data, plan

    def launch(self, state: TrainState, epoch: int):
        """Dispatches one epoch (JAX returns before it has run). The compiled epoch leaves the
        step count alone: it is advanced here, on the host, by the epoch's steps."""
        new_state, full, last = self.program(state, self.data, self.plan.shuffle_key, epoch)
        return new_state.replace(step=state.step + self.plan.steps_per_epoch), full, last

    def run(self, state: TrainState, epochs: range) -> Iterator[EpochResult]:
        for epoch in epochs:
            start = time.perf_counter()
            state, full, last = self.launch(state, epoch)
            steps, sizes = _steps_on_host(full, last, self.plan)
            yield EpochResult(epoch, state, steps, sizes, time.perf_counter() - start)


class RunAheadEpochs(FusedEpochs):
    """Fused epochs, each dispatched before the one before it is read: the device works on
    epoch e + 1 while the host takes epoch e's metrics (a result not taken is dropped). The
    program must keep its input state valid (`FusedEpoch.keeping`)."""

    def run(self, state: TrainState, epochs: range) -> Iterator[EpochResult]:
        ahead, finished = None, 0.0
        for epoch in epochs:
            # An epoch run ahead started while the host was busy with the one before: its time
            # runs from when that one finished.
            start = finished if ahead is not None else time.perf_counter()
            state, full, last = ahead if ahead is not None else self.launch(state, epoch)
            ahead = self.launch(state, epoch + 1) if epoch + 1 < epochs.stop else None
            steps, sizes = _steps_on_host(full, last, self.plan)
            finished = time.perf_counter()
            yield EpochResult(epoch, state, steps, sizes, finished - start)


def nbytes(tree: Any) -> int:
    """The bytes of every leaf of `tree` (arrays, or anything NumPy can make one of)."""
    return sum(getattr(leaf, "nbytes", None) or np.asarray(leaf).nbytes for leaf in jax.tree_util.tree_leaves(tree))


def fits_on_device(data: Data) -> bool:
    """Whether `data` is small enough to live on the default device for a fused epoch."""
    stats = jax.devices()[0].memory_stats() or {}
    budget = stats.get("bytes_limit", _HOST_DEVICE_BYTES)
    return nbytes(data) <= _DEVICE_SHARE_FOR_DATA * budget


def epoch_runner(train_step: Callable, fused_epoch: FusedEpoch, data: Data, plan: EpochPlan, *, fused: bool | None,
                 mesh: jax.sharding.Mesh | None, state: TrainState) -> EpochRunner:
    """Host-fed epochs for data too large for the device (or `fused=False`); fused ones
    otherwise, run one ahead for a state small enough to hold twice."""
    if fused is None:
        fused = fits_on_device(data)
    if not fused:
        return HostFedEpochs(train_step, data, plan)
    device_data = jax.device_put(data) if mesh is None else shard_data(data, mesh)
    if nbytes(state) <= RUN_AHEAD_STATE_BYTES:
        return RunAheadEpochs(fused_epoch.keeping, device_data, plan)
    return FusedEpochs(fused_epoch.donating, device_data, plan)
