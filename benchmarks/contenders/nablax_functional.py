"""nablax's functional face as its guide writes it: a model from `nx.nn` (the GPT from
examples/gpt.py), a loss from `nx.supervised_loss`, then either `nx.make_train_step` called once per batch or `nx.fit`
with each epoch one compiled `lax.scan` (shuffled each epoch, as `fit` does by default)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

import nablax as nx

from ..workloads import load_digits_cnn_example, load_example
from .loops import cycling_runner, epochs_for


def linear_regression_loss(params, batch):
    x, y = batch
    return nx.losses.mse(params["w"] * x, y)


def initial_state(workload) -> tuple:
    """`(loss_fn, TrainState)` for the workload, from its initial `state_dict`."""
    optimizer = workload.optax_optimizer()
    if workload.kind == "linreg":
        params = {"w": jnp.asarray(workload.initial["w"])}
        return linear_regression_loss, nx.TrainState.create(params, optimizer)
    if workload.kind == "mlp":
        model = nx.nn.MLP(list(workload.sizes))
        params = nx.load_state_dict(model.init(0), workload.initial)
        return nx.supervised_loss(model, nx.losses.cross_entropy), nx.TrainState.create(params, optimizer)
    if workload.kind == "gpt":
        example = load_example("gpt.py")
        model = example.GPT.create(workload.config)
        params = nx.load_state_dict(jax.eval_shape(lambda: model.init(0)), workload.initial)  # shapes only as the template
        return example.next_token_loss(model), nx.TrainState.create(params, optimizer)
    model = load_digits_cnn_example().functional_model()
    params, model_state = nx.load_state_dict(model.init(0), workload.initial, model.init_state())
    state = nx.TrainState.create(params, optimizer, key=1, model_state=model_state)  # key: dropout
    return nx.supervised_loss(model, nx.losses.cross_entropy), state


def build_step_runner(workload):
    loss_fn, state = initial_state(workload)
    step = nx.make_train_step(loss_fn, workload.optax_optimizer())

    def one_step(batch):
        nonlocal state
        state, metrics = step(state, batch)
        return metrics["loss"]

    batches = [(jnp.asarray(x), jnp.asarray(y)) for x, y in workload.batches()]
    return cycling_runner(one_step, batches)


def build_fit_runner(workload):
    """Each call is one `fit` over whole epochs, continuing from the previous call's state."""
    loss_fn, state = initial_state(workload)
    optimizer = workload.optax_optimizer()
    data = (jnp.asarray(workload.inputs), jnp.asarray(workload.targets))
    calls = 0

    def run(steps: int) -> tuple[int, float]:
        nonlocal state, calls
        epochs = epochs_for(steps, workload.steps_per_epoch)
        state, history = nx.fit(loss_fn, optimizer, state, data, epochs=epochs, batch_size=workload.batch_size,
                                key=calls, fused=True, progress=False)
        calls += 1
        jax.block_until_ready(state)
        return epochs * workload.steps_per_epoch, float(history.steps["loss"][-1])

    return run
