"""Hooks into `fit`'s loop: evaluation, checkpoints, the non-finite stop and progress are
callbacks, and so is anything you add with `fit(..., callbacks=[...])`.

A callback overrides any of `Callback`'s three methods. Each receives the `FitRun`, which
holds the state, the `History` so far and the epoch, and `on_epoch_end` also gets the
epoch's metrics, a dict it may add to. Setting `run.stop = True` ends training after the
epoch. After each epoch the callbacks run in this order: `StopOnNonFinite`, `Evaluate`, the
ones passed in `callbacks=` (in their order), `Progress`, `Checkpoint`; then the metrics
are appended to the history. `fit`'s keywords (`eval_data=`, `checkpoint_dir=`,
`on_nonfinite=`, `progress=`) make the built-in ones; pass them yourself for other settings
(a second evaluation set, say, under its own prefix).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable

import numpy as np

from . import checkpoint
from .data import Data, num_examples
from .history import History
from .parallel.processes import gather_to_host, is_main_process
from .train import evaluate
from .train_state import TrainState


@dataclasses.dataclass
class FitRun:
    """What `fit`'s callbacks see, and may change: `state` after the epoch just run, the
    `history` of the epochs before it, `epoch` (counted from 0) out of `epochs`, the epoch
    the run started at (`first_epoch`, later than 0 when resumed), and `stop`, which a
    callback sets to end training after this epoch. `eval_step` evaluates the run's loss
    (`nx.make_eval_step(loss_fn, mesh=...)`)."""

    state: TrainState
    history: History
    epochs: int
    eval_step: Callable
    epoch: int = -1
    first_epoch: int = 0
    stop: bool = False

    @property
    def last_epoch(self) -> bool:
        """Whether this epoch is the run's last: the final one, or stopped after."""
        return self.stop or self.epoch + 1 == self.epochs


class Callback:
    """Code `fit` runs at the start, after each epoch and at the end of training.

    Early stopping, written as a callback: stop once the evaluation loss has not improved
    by `min_delta` for `patience` epochs, and keep the best state.

        >>> import jax, jax.numpy as jnp, optax, nablax as nx
        >>> class EarlyStopping(nx.callbacks.Callback):
        ...     def __init__(self, patience=2, min_delta=1e-3):
        ...         self.patience, self.min_delta = patience, min_delta
        ...         self.best, self.best_state, self.waited = float("inf"), None, 0
        ...     def on_epoch_end(self, run, metrics):
        ...         if metrics["val_loss"] < self.best - self.min_delta:
        ...             self.best, self.waited = metrics["val_loss"], 0
        ...             self.best_state = jax.tree_util.tree_map(jnp.copy, run.state)
        ...         else:
        ...             self.waited += 1
        ...             run.stop = self.waited >= self.patience
        >>> x = jnp.linspace(-1, 1, 32).reshape(-1, 1)
        >>> loss_fn = nx.supervised_loss(nx.nn.Linear(1, 1), nx.losses.mse)
        >>> stopping = EarlyStopping()
        >>> state, history = nx.fit(loss_fn, optax.sgd(0.5), nx.nn.Linear(1, 1).init(0), (x, 3 * x), epochs=100,
        ...                         batch_size=8, key=0, eval_data=(x, 3 * x), progress=False, callbacks=[stopping])
        >>> len(history["loss"]) < 100, stopping.best < 1e-3
        (True, True)

    (The best state is copied: the next epoch may reuse the buffers of the state it starts
    from.)
    """

    def on_fit_start(self, run: FitRun) -> None:
        """Before the first epoch; `run.state` is the state training starts from."""

    def on_epoch_end(self, run: FitRun, metrics: dict[str, float]) -> None:
        """After each epoch, with the epoch's mean metrics (add to them to log more)."""

    def on_fit_end(self, run: FitRun) -> None:
        """When training ends, also when it ends with an error."""


class StopOnNonFinite(Callback):
    """Stops training with a `FloatingPointError` naming the first step of the epoch whose
    loss is nan or infinite; the error's `state` and `history` hold where it got to."""

    def on_epoch_end(self, run: FitRun, metrics: dict[str, float]) -> None:
        losses = run.history.steps["loss"][-run.history.steps_per_epoch:]
        bad = np.flatnonzero(~np.isfinite(losses))
        if bad.size == 0:
            return
        batch = int(bad[0])
        step = int(run.state.step) - len(losses) + batch + 1
        error = FloatingPointError(
            f"fit: the loss is {losses[batch]} at step {step} (epoch {run.epoch + 1}, batch {batch + 1}); training "
            "stopped. Lower the learning rate or look for nan/inf in the data; on_nonfinite='continue' trains on "
            "regardless."
        )
        error.state, error.history = run.state, run.history
        raise error


class Evaluate(Callback):
    """Evaluates the state on `data` after each epoch (in batches of `batch_size`, all at
    once when None) and adds each metric, example-weighted, as `prefix + name`; for a state
    with a moving average of the parameters, the average's too, as `prefix + "ema_" + name`."""

    def __init__(self, data: Data, *, batch_size: int | None = None, prefix: str = "val_"):
        num_examples(data)  # a clear error now, not after the first epoch
        self.data, self.batch_size, self.prefix = data, batch_size, prefix

    def on_epoch_end(self, run: FitRun, metrics: dict[str, float]) -> None:
        evaluated = evaluate(run.eval_step, run.state, self.data, batch_size=self.batch_size)
        metrics.update({self.prefix + name: value for name, value in evaluated.items()})
        if run.state.ema_params is not None:
            averaged = run.state.replace(params=run.state.ema_params)
            evaluated = evaluate(run.eval_step, averaged, self.data, batch_size=self.batch_size)
            metrics.update({f"{self.prefix}ema_{name}": value for name, value in evaluated.items()})


class Checkpoint(Callback):
    """Saves the state in `folder` (`nx.checkpoint`, safetensors) every `every` epochs and
    after the last, keeping the newest `keep` (None keeps all). With `resume=True`, training
    starts from the newest checkpoint there, at the epoch it reached. On several processes
    every process gathers the state and process 0 writes."""

    def __init__(self, folder: str | os.PathLike, *, every: int = 1, keep: int | None = 3, resume: bool = False):
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"Checkpoint: every must be a positive int (epochs), got {every!r}")
        self.folder, self.every, self.keep, self.resume = folder, every, keep, resume

    def on_fit_start(self, run: FitRun) -> None:
        if self.resume:
            run.state, run.first_epoch = checkpoint.resume(self.folder, like=run.state)

    def on_epoch_end(self, run: FitRun, metrics: dict[str, float]) -> None:
        if (run.epoch + 1) % self.every == 0 or run.last_epoch:
            whole_state = gather_to_host(run.state)  # every process takes part; process 0 writes
            if is_main_process():
                checkpoint.save_epoch(self.folder, whole_state, run.epoch + 1, keep=self.keep)


class Progress(Callback):
    """Reports each finished epoch: a tqdm bar when tqdm is installed and `mode` is True (or
    None on a terminal), one plain line per epoch otherwise, nothing when `mode` is False
    or on processes other than process 0."""

    def __init__(self, mode: bool | None = None):
        self.mode = mode
        self.bar = None

    def on_fit_start(self, run: FitRun) -> None:
        self.shown = self.mode is not False and is_main_process()
        if not self.shown:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None and (self.mode is True or sys.stderr.isatty()):
            self.bar = tqdm(total=run.epochs, unit="epoch", leave=True)

    def on_epoch_end(self, run: FitRun, metrics: dict[str, float]) -> None:
        if not self.shown:
            return
        line = _epoch_line(run.epoch, run.epochs, metrics, run.history.epoch_seconds[-1])
        if self.bar is not None:
            self.bar.write(line)
            self.bar.set_postfix({name: f"{value:.4f}" for name, value in metrics.items()})
            self.bar.update(1)
        else:
            print(line, flush=True)

    def on_fit_end(self, run: FitRun) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _epoch_line(epoch: int, epochs: int, metrics: dict[str, float], seconds: float) -> str:
    shown = "  ".join(f"{name} {value:.4f}" for name, value in metrics.items())
    took = f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1e3:.1f} ms"
    return f"epoch {epoch + 1}/{epochs}  {shown}  ({took})"


__all__ = ["Callback", "Checkpoint", "Evaluate", "FitRun", "Progress", "StopOnNonFinite"]
