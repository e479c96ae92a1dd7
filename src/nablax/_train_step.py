"""How a compiled training step runs: one pure update, and the paths that call it.

`StepUpdate` (`nablax._update`) is the step's arithmetic. A call takes one of four paths to
it, chosen by `TrainStep.choose` when the step first sees a state and kept for the states
like it that follow:

- `general`: any state on the host (a key, model state, a mesh, a moving average, a loss
  scale): one program of the arrays the step changes or reads;
- `plain`: no key, no model state, one device: a program of the parameters, the optimizer
  state and the batch, the inputs and outputs of a hand-written step;
- `without_opt_state`, the fast path of `plain` for an optimizer state that holds no arrays
  (plain SGD's): the state stays out of the program and is handed on;
- `traced`: inside an enclosing program (a scanned `fit` epoch, your own `jax.jit`), the
  same arithmetic traced into it.

Each path first checks, in a few attribute reads, that it can run the state (the general
path runs any state on the host, subclasses of `TrainState` too), and hands any other back
to `choose`. The fast paths save
only microseconds a step, which is all a small model's step costs; `tests/test_train.py`
counts what each one leaves out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax

from ._update import Carried, Metrics, StepUpdate
from .data import Data
from .train_state import TrainState, next_state

Path = Callable[[TrainState, Data], tuple[TrainState, Metrics]]


class TrainStep:
    """A compiled training step, `step(state, batch) -> (state, metrics)`; made by
    `make_train_step`.

    Called with arrays, it runs one compiled program over the arrays that change (parameters,
    optimizer state, model state) and counts the step on the host: the program has the same
    inputs and outputs as a step written by hand, and nothing more to dispatch (an optimizer
    state without arrays, like plain SGD's, stays out of it and is handed on). Called on
    traced values (scanned over an epoch by `fit`, or inside your own `jax.jit`), it is the
    same arithmetic, traced into the enclosing program.
    """

    def __init__(self, update: StepUpdate, *, donate: bool):
        self.update = update
        self.donate = donate
        self.takes_state = update.objective.takes_state
        self.keeps_average = update.ema_decay is not None
        # A state with only parameters and optimizer state can take the plain path.
        self.plain_states_only = not (update.layout is not None or self.takes_state or self.keeps_average
                                      or update.scales_loss)
        # The key and count are read, never changed: they are not donated, and not outputs.
        self.general_program = jax.jit(update, donate_argnums=(0,) if donate else ())
        self.plain_program = jax.jit(self._update_plain, donate_argnums=(0, 1) if donate else ())
        self._programs_without_opt_state: dict[Any, Callable | None] = {}  # by the optimizer state's structure
        self.run: Path = self.choose

    def __call__(self, state: TrainState, batch: Data) -> tuple[TrainState, Metrics]:
        return self.run(state, batch)

    def _update_plain(self, params, opt_state, batch):
        carried, metrics = self.update(Carried(params, opt_state), None, None, batch)
        return carried.params, carried.opt_state, metrics

    # -- a state in and out ----------------------------------------------------------------

    def carried(self, state: TrainState) -> Carried:
        """What the step changes, taken from `state` (None for the parts it leaves alone)."""
        return Carried(state.params, state.opt_state, state.model_state if self.takes_state else None,
                       state.ema_params if self.keeps_average else None,
                       state.loss_scale if self.update.scales_loss else None)

    def stepped(self, state: TrainState, carried: Carried) -> TrainState:
        """`state` one step on, with what the step changed (and the rest as it was)."""
        return next_state(state, carried.params, carried.opt_state,
                          carried.model_state if self.takes_state else state.model_state,
                          carried.ema_params if self.keeps_average else state.ema_params,
                          carried.loss_scale if self.update.scales_loss else state.loss_scale)

    def check(self, state: TrainState) -> None:
        """Raises an error that says how to make a state this step can run."""
        if not isinstance(state, TrainState):
            raise TypeError(
                f"a train step takes a TrainState, got {type(state).__name__}; "
                f"make one with nx.TrainState.create(params, optimizer)"
            )
        if self.keeps_average and state.ema_params is None:
            raise ValueError(
                f"the train step keeps a moving average of the parameters (ema={self.update.ema_decay}) but the state "
                f"has none: create it with nx.TrainState.create(params, optimizer, ema=True)"
            )
        if self.update.scales_loss and state.loss_scale is None:
            raise ValueError(
                f"the train step scales the loss ({self.update.precision}) but the state has no loss scale: create it "
                f"with nx.TrainState.create(params, optimizer, precision=...) and the step's precision"
            )

    # -- choosing a path -------------------------------------------------------------------

    def choose(self, state: TrainState, batch: Data) -> tuple[TrainState, Metrics]:
        """Runs a state no path has been chosen for: checks it, picks the path for states
        like it (kept as `run` for the calls that follow), and takes it."""
        self.check(state)
        if isinstance(state.step, jax.core.Tracer):
            return self.traced(state, batch)  # an enclosing program's: the host's path stays as it was
        if type(state.step) is not int:
            state = state.replace(step=int(state.step))  # a count a program returned: read once, kept on the host
        self.run = self._path_for(state)
        return self.run(state, batch)

    def _path_for(self, state: TrainState) -> Path:
        if state.__class__ is not TrainState or state.key is not None or not self.plain_states_only:
            return self.general
        program = self._program_without_opt_state(state.opt_state, state.params)
        if program is None:
            return self.plain
        return self._without_opt_state(state.opt_state, program)

    # -- the paths -------------------------------------------------------------------------

    def general(self, state: TrainState, batch: Data) -> tuple[TrainState, Metrics]:
        """Any state on the host: one program of the arrays the step changes (`Carried`) and
        reads (the key, the count it is folded with)."""
        if not isinstance(state, TrainState) or type(state.step) is not int:
            return self.choose(state, batch)
        carried, key = self.carried(state), state.key
        layout = self.update.layout
        if layout is not None:
            carried, key = layout.place_state((carried, key))
            batch = layout.place_batch(batch)
        carried, metrics = self.general_program(carried, key, None if key is None else state.step, batch)
        return self.stepped(state, carried), metrics

    def plain(self, state: TrainState, batch: Data) -> tuple[TrainState, Metrics]:
        """No key, no model state, one device: the program takes only the parameters, the
        optimizer state and the batch, as a hand-written step does."""
        if state.__class__ is not TrainState or state.key is not None or state.step.__class__ is not int:
            return self.choose(state, batch)
        params, opt_state, metrics = self.plain_program(state.params, state.opt_state, batch)
        return next_state(state, params, opt_state, state.model_state, state.ema_params, state.loss_scale), metrics

    def traced(self, state: TrainState, batch: Data) -> tuple[TrainState, Metrics]:
        """Inside an enclosing program: the same arithmetic, traced into it."""
        self.check(state)
        carried, metrics = self.update(self.carried(state), state.key, state.step, batch)
        return self.stepped(state, carried), metrics

    # -- fast path: an optimizer state without arrays ---------------------------------------
    #
    # Plain SGD's state is `(EmptyState(), EmptyState())`: no arrays, and the same after every
    # update. jit would still flatten it on every call and rebuild it from the results, about
    # 1.2 us for SGD's two empty nodes, more than the rest of the step's Python. So the plain
    # path, for such a state, calls a program of the parameters and batch alone and hands the
    # state object on. A state is recognised by identity (the state a step returns holds the
    # very object it was given); any other goes back to `choose`, which looks at it once.

    def _without_opt_state(self, empty: Any, program: Callable) -> Path:
        """The plain path for states holding the optimizer state `empty`, run by `program`."""

        def without_opt_state(state: TrainState, batch: Data) -> tuple[TrainState, Metrics]:
            if state.__class__ is not TrainState or state.opt_state is not empty or state.key is not None \
                    or state.step.__class__ is not int:
                return self.choose(state, batch)
            params, metrics = program(state.params, batch)
            return next_state(state, params, empty, state.model_state, state.ema_params, state.loss_scale), metrics

        return without_opt_state

    def _program_without_opt_state(self, opt_state: Any, params: Any) -> Callable | None:
        """For an optimizer state that holds no arrays, a compiled `(params, batch) ->
        (params, metrics)` that rebuilds it inside the program; None for a state with
        arrays, or one whose update changes it."""
        leaves, structure = jax.tree_util.tree_flatten(opt_state)
        if leaves:
            return None
        if structure not in self._programs_without_opt_state:
            optimizer = self.update.optimizer
            updated = jax.eval_shape(lambda p: optimizer.update(p, structure.unflatten([]), p)[1], params)
            unchanged = jax.tree_util.tree_structure(updated) == structure

            def update(params, batch):
                params, _, metrics = self._update_plain(params, structure.unflatten([]), batch)
                return params, metrics

            self._programs_without_opt_state[structure] = (
                jax.jit(update, donate_argnums=(0,) if self.donate else ()) if unchanged else None)
        return self._programs_without_opt_state[structure]
