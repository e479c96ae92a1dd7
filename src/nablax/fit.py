"""`fit`: train for N epochs, each epoch one compiled `lax.scan` over its batches when the
data fits on the device (one jitted step per batch otherwise).

`fit` is assembled from small parts: its arguments are checked (`_check_arguments`), a
state is made or copied (`_initial_state`), an epoch runner (`nablax._epochs`) trains one
epoch after another, and the callbacks (`nablax.callbacks`: evaluation, checkpoints, the
non-finite stop, progress, and yours) run after each.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ._epochs import EpochPlan, FusedEpoch, compile_fused_epoch, epoch_runner
from ._keys import as_key
from ._objective import Objective
from .callbacks import Callback, Checkpoint, Evaluate, FitRun, Progress, StopOnNonFinite
from .data import Data, check_batch_size, num_examples
from .history import History
from .parallel.fitting import check_fit_on_mesh
from .parallel.layout import global_num_examples, shard_state
from .precision import Precision, as_precision
from .train import check_accumulate, check_ema_decay, make_eval_step, make_train_step
from .train_state import TrainState

__all__ = ["fit", "History"]


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
    callbacks: Sequence[Callback] = (),
    accumulate: int = 1,
    precision: Precision | str | None = None,
    ema: float | None = None,
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

    `callbacks` run after each epoch (`nx.callbacks.Callback`: they see the state, the
    history and the epoch's metrics, may add metrics, and may stop training).

    `accumulate=k` runs each step's batch as `k` microbatches inside the compiled step (see
    `make_train_step`): `batch_size` stays the examples per update, so each microbatch
    holds `batch_size // k` of them, and results do not depend on `k` (for a mean loss
    without batch statistics) while memory does. `batch_size`, and the last batch unless
    `drop_last`, must split into `k` equal microbatches. `precision` computes in bfloat16
    or float16 (`nablax.precision`), evaluation too; `ema=decay` keeps a moving average of
    the parameters in `state.ema_params`, and evaluation then reports it as well
    (`val_ema_loss`, ...). With `optax.inject_hyperparams`, `history.steps["lr"]` holds
    each step's learning rate and `history["lr"]` each epoch's mean.

        >>> import jax.numpy as jnp, optax, nablax as nx
        >>> x = jnp.linspace(-1, 1, 32).reshape(-1, 1); y = 3 * x
        >>> loss_fn = nx.supervised_loss(nx.nn.Linear(1, 1), nx.losses.mse)
        >>> state, history = nx.fit(loss_fn, optax.sgd(0.5), nx.nn.Linear(1, 1).init(0), (x, y),
        ...                         epochs=20, batch_size=8, key=0, progress=False)
        >>> min(history["loss"]) < 1e-4
        True
    """
    n, fused = _check_arguments(data, epochs=epochs, batch_size=batch_size, key=key, shuffle=shuffle,
                                drop_last=drop_last, fused=fused, mesh=mesh, on_nonfinite=on_nonfinite,
                                checkpoint_every=checkpoint_every, checkpoint_dir=checkpoint_dir, resume=resume,
                                accumulate=accumulate)
    precision, ema = as_precision(precision), check_ema_decay(ema)
    hooks = _hooks(callbacks, eval_data=eval_data, eval_batch_size=eval_batch_size, progress=progress,
                   checkpoint_dir=checkpoint_dir, checkpoint_every=checkpoint_every, keep_checkpoints=keep_checkpoints,
                   resume=resume, on_nonfinite=on_nonfinite)
    base_key = as_key(0 if key is None else key)
    programs = _programs(loss_fn, optimizer, batch_size, drop_last, mesh, min_fsdp_size, accumulate, precision, ema)
    state = _initial_state(loss_fn, optimizer, state, base_key, model_state, ema=ema is not None, precision=precision)
    run = FitRun(state=state, history=History(), epochs=epochs, eval_step=programs.eval_step)
    try:
        for hook in hooks:
            hook.on_fit_start(run)  # a checkpoint to resume from replaces the state here
        if mesh is not None:
            run.state = shard_state(run.state, mesh, min_fsdp_size)  # after resuming: a loaded checkpoint lies on one device
        # The step count stays a host int (see TrainState); runners advance it.
        run.state = run.state.replace(step=int(run.state.step))
        plan = EpochPlan(n, batch_size, drop_last, base_key if shuffle else None)
        runner = epoch_runner(programs.train_step, programs.fused_epoch, data, plan, fused=fused, mesh=mesh,
                              state=run.state)
        for result in runner.run(run.state, range(run.first_epoch, epochs)):
            run.epoch, run.state = result.epoch, result.state
            metrics = run.history.add_steps(result.steps, result.sizes, seconds=result.seconds)
            for hook in hooks:
                hook.on_epoch_end(run, metrics)
            run.history.add_epoch(metrics)
            if run.stop:
                break
    finally:
        for hook in hooks:
            hook.on_fit_end(run)
    return run.state, run.history


def _check_arguments(data: Data, *, epochs, batch_size, key, shuffle, drop_last, fused, mesh, on_nonfinite,
                     checkpoint_every, checkpoint_dir, resume, accumulate) -> tuple[int, bool | None]:
    """Raises a clear error for arguments `fit` cannot train with, before anything is
    compiled; returns the number of examples (over all processes) and whether to fuse
    epochs (None: when the data fits on the device)."""
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative int, got {epochs!r}")
    n = num_examples(data) if mesh is None else global_num_examples(data, mesh)
    check_batch_size(batch_size, n, drop_last)
    _check_microbatches(check_accumulate(accumulate), n, batch_size, drop_last)
    if mesh is not None:
        fused = check_fit_on_mesh(mesh, n, batch_size=batch_size, drop_last=drop_last, fused=fused,
                                  accumulate=accumulate)
    if on_nonfinite not in ("raise", "continue"):
        raise ValueError(f"fit: on_nonfinite must be 'raise' or 'continue', got {on_nonfinite!r}")
    if not isinstance(checkpoint_every, int) or checkpoint_every < 1:
        raise ValueError(f"fit: checkpoint_every must be a positive int (epochs), got {checkpoint_every!r}")
    if resume and checkpoint_dir is None:
        raise ValueError("fit: resume=True needs checkpoint_dir, the folder the checkpoints are in")
    if shuffle and key is None:
        raise ValueError("fit shuffles every epoch with an explicit PRNG key: pass key=0 (or any jax.random.key), or shuffle=False")
    return n, fused


def _check_microbatches(accumulate: int, n: int, batch_size: int, drop_last: bool) -> None:
    """Raises a clear error when a batch does not split into `accumulate` equal microbatches."""
    last = 0 if drop_last else n % batch_size
    for rows, which in ((batch_size, f"batch_size={batch_size}"), (last, f"the last batch ({n} % {batch_size} = {last})")):
        if rows % accumulate:
            raise ValueError(
                f"fit: {which} does not split into accumulate={accumulate} microbatches of equal size; choose a "
                f"batch_size that is a multiple of {accumulate}" + ("" if rows == batch_size else ", or pass drop_last=True")
            )


def _hooks(callbacks: Sequence[Callback], *, eval_data, eval_batch_size, progress, checkpoint_dir, checkpoint_every,
           keep_checkpoints, resume, on_nonfinite) -> list[Callback]:
    """The callbacks of a run, in the order they run: those `fit`'s keywords ask for around
    the user's."""
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise TypeError(
                f"fit: callbacks must be nx.callbacks.Callback instances, got {type(callback).__name__}; subclass "
                f"nx.callbacks.Callback and override on_epoch_end(self, run, metrics)"
            )
    measuring = [StopOnNonFinite()] if on_nonfinite == "raise" else []
    if eval_data is not None:
        measuring.append(Evaluate(eval_data, batch_size=eval_batch_size))
    reporting: list[Callback] = [Progress(progress)]
    if checkpoint_dir is not None:
        reporting.append(Checkpoint(checkpoint_dir, every=checkpoint_every, keep=keep_checkpoints, resume=resume))
    return [*measuring, *callbacks, *reporting]


def _initial_state(loss_fn: Callable, optimizer: optax.GradientTransformation, state: TrainState | Any,
                   key: jax.Array, model_state: Any, *, ema: bool, precision: Precision | None) -> TrainState:
    """A copy of `state` when it is a `TrainState` (compiled epochs of a large state donate
    their input state, and the caller's must live on), with the moving average and the loss
    scale added when the run keeps them and it has none; else a new state around `state` as
    parameters."""
    if not isinstance(state, TrainState):
        objective = Objective(loss_fn)
        model_key = jax.random.split(key)[1] if objective.takes_key else None
        if model_state is None and objective.takes_state and hasattr(loss_fn, "model"):
            model_state = loss_fn.model.init_state()  # a supervised_loss knows its model
        return TrainState.create(state, optimizer, key=model_key, model_state=model_state, ema=ema, precision=precision)
    state = jax.tree_util.tree_map(jnp.copy, state)
    if ema and state.ema_params is None:
        state = state.replace(ema_params=jax.tree_util.tree_map(jnp.copy, state.params))
    if precision is not None and state.loss_scale is None:
        state = state.replace(loss_scale=precision.initial_loss_scale())
    return state


class Programs(NamedTuple):
    """What a run compiles: the step, the fused epoch around it, and evaluation."""

    train_step: Callable
    fused_epoch: FusedEpoch
    eval_step: Callable


def _compile(loss_fn: Callable, optimizer: optax.GradientTransformation, batch_size: int, drop_last: bool,
             mesh=None, min_fsdp_size=None, accumulate=1, precision=None, ema=None) -> Programs:
    train_step = make_train_step(loss_fn, optimizer, mesh=mesh, min_fsdp_size=min_fsdp_size, accumulate=accumulate,
                                 precision=precision, ema=ema)
    return Programs(train_step, compile_fused_epoch(train_step, batch_size, drop_last),
                    make_eval_step(loss_fn, mesh=mesh, min_fsdp_size=min_fsdp_size, precision=precision))


# Repeated `fit` calls with the same loss and optimizer reuse their compiled programs.
_compiled_programs = functools.lru_cache(maxsize=16)(_compile)


def _programs(loss_fn, optimizer, *settings) -> Programs:
    """The programs for `loss_fn`, `optimizer` and `settings` (the rest of `_compile`'s
    arguments), compiled once for repeated runs."""
    try:
        hash((loss_fn, optimizer))
    except TypeError:  # an unhashable loss or optimizer: compile afresh
        return _compile(loss_fn, optimizer, *settings)
    return _compiled_programs(loss_fn, optimizer, *settings)
