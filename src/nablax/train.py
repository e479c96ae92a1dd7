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

import inspect
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._keys import as_key
from .data import Data, batches, num_examples
from .parallel.steps import MeshLayout, ShardedEvalStep


class TrainState(NamedTuple):
    """Everything a training step changes, as one pytree: parameters, optimizer state,
    the step count, and (when the loss needs randomness) a PRNG key.

    A train step counts on the host, so `step` is a plain `int` between steps: reading it
    never waits for the device, and the compiled step carries no counter. Inside a compiled
    program (a fused `fit` epoch, your own `jax.jit`) it is traced like any other leaf, and
    a state coming out of one holds it as a scalar array until the next step reads it.

        >>> import optax, nablax as nx
        >>> model = nx.nn.Linear(2, 1)
        >>> state = nx.TrainState.create(model.init(0), optax.sgd(0.1))
        >>> state.step
        0
    """

    params: Any
    opt_state: Any
    step: int | jax.Array = 0
    key: jax.Array | None = None
    model_state: Any = None

    @classmethod
    def create(cls, params: Any, optimizer: optax.GradientTransformation, *, key=None, model_state=None) -> TrainState:
        """A state at step 0 with `optimizer.init(params)`; give `key` when the loss takes one
        and `model_state` (e.g. `model.init_state()`) when the model has running statistics.

        The state holds copies: a donating train step consumes the state's buffers, never
        arrays the caller still holds."""
        optimizer = check_optimizer(optimizer)
        params = jax.tree_util.tree_map(jnp.copy, params)
        return cls(
            params=params,
            opt_state=optimizer.init(params),
            step=0,
            key=None if key is None else as_key(key),
            model_state=None if model_state is None else jax.tree_util.tree_map(jnp.copy, model_state),
        )

    def replace(self, **changes: Any) -> TrainState:
        """A copy with the given fields replaced."""
        return self._replace(**changes)


def check_optimizer(optimizer: Any) -> optax.GradientTransformation:
    """Returns `optimizer` if it is an optax transform, or raises an error that says what to pass."""
    if isinstance(optimizer, optax.GradientTransformation):
        return optimizer
    if callable(getattr(optimizer, "init", None)) and callable(getattr(optimizer, "update", None)):
        return optax.GradientTransformation(optimizer.init, optimizer.update)
    raise TypeError(
        f"optimizer must be an optax.GradientTransformation (e.g. optax.sgd(0.1) or optax.adam(1e-3)), "
        f"got {type(optimizer).__module__}.{type(optimizer).__qualname__}"
    )


class _Objective:
    """Calls a user's loss function with the keywords it accepts and normalises its result."""

    def __init__(self, loss_fn: Callable):
        if not callable(loss_fn):
            raise TypeError(f"loss_fn must be callable as loss_fn(params, batch), got {type(loss_fn).__name__}")
        self.loss_fn = loss_fn
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
        kwargs: dict[str, Any] = {}
        if self.takes_train:
            kwargs["train"] = train
        if self.takes_state:
            if state is None:
                raise ValueError(
                    "loss_fn threads the model's state (running statistics, e.g. BatchNorm) but got none: create the "
                    "TrainState with nx.TrainState.create(params, optimizer, model_state=model.init_state())"
                )
            kwargs["state"] = state
        if key is not None and self.takes_key:
            kwargs["key"] = key
        elif self.needs_key:
            raise ValueError(
                "loss_fn takes a `key` but the TrainState has none: "
                "create it with nx.TrainState.create(params, optimizer, key=0)"
            )
        out = self.loss_fn(params, batch, **kwargs)
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


def make_train_step(loss_fn: Callable, optimizer: optax.GradientTransformation, *, donate: bool = True,
                    mesh: jax.sharding.Mesh | None = None, min_fsdp_size: int | None = None,
                    ) -> Callable[[TrainState, Data], tuple[TrainState, dict[str, jax.Array]]]:
    """Compiles one training step: gradients of `loss_fn` by `jax.value_and_grad`, an update
    by `optimizer`. Returns `step(state, batch) -> (state, metrics)`, with `metrics["loss"]`
    the loss before the update.

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
    return _step_function(TrainStep(_Objective(loss_fn), check_optimizer(optimizer), donate=donate, layout=layout))


def _step_function(train_step: TrainStep) -> Callable[[TrainState, Data], tuple[TrainState, dict[str, jax.Array]]]:
    """`train_step` as a plain function that runs the common case (no key, no model state, one
    device, a host step count) itself and hands every other call to `train_step`.

    Calling an instance of a Python class costs an argument tuple, a method lookup and a frame
    more than calling a function: about 0.4 us a step, 2% of a tiny model's step."""
    compiled_plain = train_step._compiled_plain
    plain = train_step.layout is None and not train_step._takes_state
    new_state = tuple.__new__
    # An optimizer state without arrays (plain SGD's) and the program that steps without it,
    # as one pair (replaced whole, so threads sharing a step never see one's state with
    # another's program), once a state has shown that the optimizer keeps none; until then,
    # and after a state with arrays, the pair holds a marker that no state is. The state
    # passed in is compared by identity: the state a step returns holds the same object.
    nothing = object()
    stateless = (nothing, None)
    looking = True

    def step(state: TrainState, batch: Data) -> tuple[TrainState, dict[str, jax.Array]]:
        nonlocal stateless, looking
        if type(state) is TrainState and plain:
            params, opt_state, count, key, model_state = state
            if key is None and type(count) is int:
                if looking and opt_state is not stateless[0]:
                    program = train_step.stateless_program(opt_state, params)
                    looking = program is not None
                    stateless = (opt_state, program) if looking else (nothing, None)
                known_state, program = stateless
                if opt_state is known_state:
                    params, metrics = program(params, batch)
                else:
                    params, opt_state, metrics = compiled_plain(params, opt_state, batch)
                return new_state(TrainState, (params, opt_state, count + 1, None, model_state)), metrics
        return train_step(state, batch)

    step.__doc__ = TrainStep.__doc__
    step.__wrapped__ = train_step  # what `inspect.unwrap` finds: the compiled functions, the general call
    return step


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

    def __init__(self, objective: _Objective, optimizer: optax.GradientTransformation, *, donate: bool,
                 layout: MeshLayout | None):
        self.objective = objective
        self.optimizer = optimizer
        self.layout = layout
        self._takes_state = objective.takes_state
        # The key is read, never changed: it is not donated, and not an output.
        self._compiled = jax.jit(self.update, donate_argnums=(0, 1, 2) if donate else ())
        # The common case (no randomness, no model state, one device) takes only what changes
        # and the batch: on a tiny model every argument dispatched shows in the step's time.
        self._compiled_plain = jax.jit(self._update_plain, donate_argnums=(0, 1) if donate else ())
        self._donate = donate
        self._stateless_programs: dict[Any, Callable | None] = {}  # by the optimizer state's tree structure

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

    def stateless_program(self, opt_state: Any, params: Any) -> Callable | None:
        """For an optimizer state that holds no arrays (plain SGD's is `(EmptyState(),
        EmptyState())`), a compiled `(params, batch) -> (params, metrics)` that rebuilds it
        inside the program; None for a state with arrays, or one whose update changes it.

        Such a state comes out of every step as it went in, so it need not travel through the
        program: jit flattens its arguments and rebuilds its results on every call, about
        1.2 us for SGD's two empty nodes, more than the rest of this step's Python."""
        leaves, structure = jax.tree_util.tree_flatten(opt_state)
        if leaves:
            return None
        if structure not in self._stateless_programs:
            updated = jax.eval_shape(lambda p: self.optimizer.update(p, structure.unflatten([]), p)[1], params)
            unchanged = jax.tree_util.tree_structure(updated) == structure

            def update(params, batch):
                params, _, metrics = self._update_plain(params, structure.unflatten([]), batch)
                return params, metrics

            self._stateless_programs[structure] = (
                jax.jit(update, donate_argnums=(0,) if self._donate else ()) if unchanged else None)
        return self._stateless_programs[structure]

    def __call__(self, state: TrainState, batch: Data) -> tuple[TrainState, dict[str, jax.Array]]:
        # The general call: the function `make_train_step` returns runs the common case itself
        # and hands this every other (a key, model state, a mesh, a count still an array, a
        # subclass of TrainState). The state is unpacked once, and the next one is built
        # without the generated `__new__`, as steps may take only microseconds.
        if not isinstance(state, TrainState):
            raise TypeError(
                f"a train step takes a TrainState, got {type(state).__name__}; "
                f"make one with nx.TrainState.create(params, optimizer)"
            )
        params, opt_state, step, key, model_state = state
        if type(step) is not int:
            if isinstance(step, jax.core.Tracer):
                return self._traced(state, batch)
            step = int(step)  # a count a compiled program returned: read once, kept on the host from now on
        if key is None and self.layout is None and not self._takes_state:
            params, opt_state, metrics = self._compiled_plain(params, opt_state, batch)
        else:
            trained = model_state if self._takes_state else None
            if self.layout is not None:
                (params, opt_state, trained), key = self.layout.place_state(((params, opt_state, trained), key))
                batch = self.layout.place_batch(batch)
            params, opt_state, trained, metrics = self._compiled(params, opt_state, trained, key,
                                                                 None if key is None else step, batch)
            if self._takes_state:
                model_state = trained
        return tuple.__new__(TrainState, (params, opt_state, step + 1, key, model_state)), metrics

    def _traced(self, state: TrainState, batch: Data) -> tuple[TrainState, dict[str, jax.Array]]:
        takes_state = self._takes_state
        params, opt_state, model_state, metrics = self.update(
            state.params, state.opt_state, state.model_state if takes_state else None, state.key, state.step, batch)
        new_state = TrainState(params, opt_state, state.step + 1, state.key,
                               model_state if takes_state else state.model_state)
        return new_state, metrics


def make_eval_step(loss_fn: Callable, *, mesh: jax.sharding.Mesh | None = None, min_fsdp_size: int | None = None):
    """Compiles `eval_step(state_or_params, batch) -> metrics`: the loss and metrics of
    `loss_fn` with `train=False` and no randomness. A loss with model state needs a
    `TrainState` (its `model_state` is used, not changed). With a `mesh`, the state and
    batches are placed as `make_train_step` places them."""
    objective = _Objective(loss_fn)

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
    `metrics` computed from the same outputs. For a model with state (`model.has_state`,
    e.g. BatchNorm) the loss takes and returns the state, as the train steps expect; the
    function's `.model` is the model, so `fit` can make its initial state.

        >>> import nablax as nx
        >>> loss_fn = nx.supervised_loss(nx.nn.MLP([4, 8, 3]), nx.losses.cross_entropy,
        ...                              metrics={"accuracy": nx.metrics.accuracy})
    """
    metrics = dict(metrics or {})

    def scores(outputs, targets):
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
