"""How a compiled training step runs: one pure update, and the paths that call it.

`TrainStep.update` is the step's arithmetic. A call takes one of four paths to it, chosen by
`TrainStep.choose` when the step first sees a state and kept for the states like it that
follow:

- `general`: any state on the host (a key, model state, a mesh): one program of the arrays
  the step changes or reads;
- `plain`: no key, no model state, one device: a program of the parameters, the optimizer
  state and the batch, the inputs and outputs of a hand-written step;
- `without_opt_state`, the fast path of `plain` for an optimizer state that holds no arrays
  (plain SGD's): the state stays out of the program and is handed on;
- `traced`: inside an enclosing program (a scanned `fit` epoch, your own `jax.jit`), the
  same arithmetic traced into it.

Each path first checks, in a few attribute reads, that it can run the state (the general
path runs any state on the host), and hands any other back to `choose`. The fast paths save only microseconds a step, which is
all a small model's step costs; `tests/test_train.py` counts what each one leaves out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import optax

from ._objective import Objective
from .data import Data
from .parallel.steps import MeshLayout
from .train_state import TrainState, next_state

Metrics = dict[str, jax.Array]


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

    def __init__(self, objective: Objective, optimizer: optax.GradientTransformation, *, donate: bool,
                 layout: MeshLayout | None):
        self.objective = objective
        self.optimizer = optimizer
        self.layout = layout
        self.donate = donate
        self.takes_state = objective.takes_state
        # The key and count are read, never changed: they are not donated, and not outputs.
        self.general_program = jax.jit(self.update, donate_argnums=(0, 1, 2) if donate else ())
        self.plain_program = jax.jit(self._update_plain, donate_argnums=(0, 1) if donate else ())
        self._programs_without_opt_state: dict[Any, Callable | None] = {}  # by the optimizer state's structure
        self.run: Callable[[TrainState, Data], tuple[TrainState, Metrics]] = self.choose

    def __call__(self, state: TrainState, batch: Data) -> tuple[TrainState, Metrics]:
        return self.run(state, batch)

    # -- the arithmetic --------------------------------------------------------------------

    def update(self, params, opt_state, model_state, key, step, batch):
        """The step's arithmetic, as a pure function: `(params, opt_state, model_state,
        metrics)` after one step on `batch`. `model_state` is None for a loss without state;
        `step` is only used to derive this step's key."""
        if self.layout is not None:
            params, opt_state, model_state = self.layout.constrain_state((params, opt_state, model_state))
            batch = self.layout.constrain_batch(batch)
        step_key = None if key is None else jax.random.fold_in(key, step)

        def loss_of(params):
            loss, metrics, new_model_state = self.objective(params, batch, key=step_key, train=True, state=model_state)
            return loss, (metrics, new_model_state)

        (loss, (metrics, model_state)), grads = jax.value_and_grad(loss_of, has_aux=True)(params)
        updates, opt_state = self.optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        if self.layout is not None:
            params, opt_state, model_state = self.layout.constrain_state((params, opt_state, model_state))
        return params, opt_state, model_state, {"loss": loss, **metrics}

    def _update_plain(self, params, opt_state, batch):
        params, opt_state, _, metrics = self.update(params, opt_state, None, None, None, batch)
        return params, opt_state, metrics

    # -- choosing a path -------------------------------------------------------------------

    def choose(self, state: TrainState, batch: Data) -> tuple[TrainState, Metrics]:
        """Runs a state no path has been chosen for: checks it, picks the path for states
        like it (kept as `run` for the calls that follow), and takes it."""
        if not isinstance(state, TrainState):
            raise TypeError(
                f"a train step takes a TrainState, got {type(state).__name__}; "
                f"make one with nx.TrainState.create(params, optimizer)"
            )
        if isinstance(state.step, jax.core.Tracer):
            return self.traced(state, batch)  # an enclosing program's: the host's path stays as it was
        if type(state.step) is not int:
            state = state.replace(step=int(state.step))  # a count a program returned: read once, kept on the host
        self.run = self._path_for(state)
        return self.run(state, batch)

    def _path_for(self, state: TrainState) -> Callable[[TrainState, Data], tuple[TrainState, Metrics]]:
        if state.key is not None or self.layout is not None or self.takes_state:
            return self.general
        program = self._program_without_opt_state(state.opt_state, state.params)
        if program is None:
            return self.plain
        return self._without_opt_state(state.opt_state, program)

    # -- the paths -------------------------------------------------------------------------

    def general(self, state: TrainState, batch: Data) -> tuple[TrainState, Metrics]:
        """Any state on the host: one program of the arrays the step changes (parameters,
        optimizer state, model state when the loss threads it) and reads (the key, the count
        it is folded with)."""
        if not isinstance(state, TrainState) or type(state.step) is not int:
            return self.choose(state, batch)
        params, opt_state, key, batch = state.params, state.opt_state, state.key, batch
        model_state = state.model_state if self.takes_state else None
        if self.layout is not None:
            (params, opt_state, model_state), key = self.layout.place_state(((params, opt_state, model_state), key))
            batch = self.layout.place_batch(batch)
        params, opt_state, model_state, metrics = self.general_program(
            params, opt_state, model_state, key, None if key is None else state.step, batch)
        return next_state(state, params, opt_state, model_state if self.takes_state else state.model_state), metrics

    def plain(self, state: TrainState, batch: Data) -> tuple[TrainState, Metrics]:
        """No key, no model state, one device: the program takes only the parameters, the
        optimizer state and the batch, as a hand-written step does."""
        if not isinstance(state, TrainState) or state.key is not None or type(state.step) is not int:
            return self.choose(state, batch)
        params, opt_state, metrics = self.plain_program(state.params, state.opt_state, batch)
        return next_state(state, params, opt_state, state.model_state), metrics

    def traced(self, state: TrainState, batch: Data) -> tuple[TrainState, Metrics]:
        """Inside an enclosing program: the same arithmetic, traced into it."""
        params, opt_state, model_state, metrics = self.update(
            state.params, state.opt_state, state.model_state if self.takes_state else None, state.key, state.step, batch)
        return next_state(state, params, opt_state, model_state if self.takes_state else state.model_state), metrics

    # -- fast path: an optimizer state without arrays ---------------------------------------
    #
    # Plain SGD's state is `(EmptyState(), EmptyState())`: no arrays, and the same after every
    # update. jit would still flatten it on every call and rebuild it from the results, about
    # 1.2 us for SGD's two empty nodes, more than the rest of the step's Python. So the plain
    # path, for such a state, calls a program of the parameters and batch alone and hands the
    # state object on. A state is recognised by identity (the state a step returns holds the
    # very object it was given); any other goes back to `choose`, which looks at it once.

    def _without_opt_state(self, empty: Any, program: Callable) -> Callable[[TrainState, Data], tuple[TrainState, Metrics]]:
        """The plain path for states holding the optimizer state `empty`, run by `program`."""

        def without_opt_state(state: TrainState, batch: Data) -> tuple[TrainState, Metrics]:
            if not isinstance(state, TrainState) or state.opt_state is not empty or state.key is not None \
                    or type(state.step) is not int:
                return self.choose(state, batch)
            params, metrics = program(state.params, batch)
            return next_state(state, params, empty, state.model_state), metrics

        return without_opt_state

    def _program_without_opt_state(self, opt_state: Any, params: Any) -> Callable | None:
        """For an optimizer state that holds no arrays, a compiled `(params, batch) ->
        (params, metrics)` that rebuilds it inside the program; None for a state with
        arrays, or one whose update changes it."""
        leaves, structure = jax.tree_util.tree_flatten(opt_state)
        if leaves:
            return None
        if structure not in self._programs_without_opt_state:
            updated = jax.eval_shape(lambda p: self.optimizer.update(p, structure.unflatten([]), p)[1], params)
            unchanged = jax.tree_util.tree_structure(updated) == structure

            def update(params, batch):
                params, _, metrics = self._update_plain(params, structure.unflatten([]), batch)
                return params, metrics

            self._programs_without_opt_state[structure] = (
                jax.jit(update, donate_argnums=(0,) if self.donate else ()) if unchanged else None)
        return self._programs_without_opt_state[structure]
