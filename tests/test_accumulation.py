"""Gradient accumulation: k microbatches in one compiled step give the large batch's update."""

import jax
import numpy as np
import optax
import pytest

import nablax as nx
from regression_problem import assert_trees_close, regression_data


MODEL = nx.nn.MLP([3, 16, 1])
LOSS_FN = nx.supervised_loss(MODEL, nx.losses.mse)  # a mean over examples


@pytest.mark.parametrize("optimizer, accumulate", [(optax.sgd(0.1), 2), (optax.adam(1e-2), 4)], ids=["sgd-2", "adam-4"])
def test_microbatches_give_the_update_of_the_whole_batch(optimizer, accumulate):
    x, y = regression_data(96)
    whole = nx.make_train_step(LOSS_FN, optimizer)
    split = nx.make_train_step(LOSS_FN, optimizer, accumulate=accumulate)
    big, small = (nx.TrainState.create(MODEL.init(0), optimizer) for _ in range(2))
    for start in (0, 32, 64):
        batch = (x[start:start + 32], y[start:start + 32])
        big, big_metrics = whole(big, batch)
        small, small_metrics = split(small, batch)
        assert float(small_metrics["loss"]) == pytest.approx(float(big_metrics["loss"]), rel=1e-6)
    assert_trees_close(small.params, big.params)
    assert small.step == big.step == 3


def test_the_microbatches_run_in_one_scan_inside_the_step():
    x, y = regression_data(96)
    traced = []

    def counted(params, batch):
        traced.append(batch[0].shape)
        return LOSS_FN(params, batch)

    step = nx.make_train_step(counted, optax.sgd(0.1), accumulate=4)
    update = step.__wrapped__.update
    state = nx.TrainState.create(MODEL.init(0), optax.sgd(0.1))
    jaxpr = jax.make_jaxpr(lambda s: update(step.__wrapped__.carried(s), None, None, (x[:32], y[:32])))(state)
    scans = [eqn for eqn in jaxpr.eqns if eqn.primitive.name == "scan"]
    assert [scan.params["length"] for scan in scans] == [4]
    assert traced == [(8, 3)]  # the loss is traced once, for one microbatch of 32 / 4


def test_the_model_state_runs_through_the_microbatches_in_order():
    """BatchNorm's running statistics see microbatch 0, then microbatch 1 (rows 0, 2, 4, ...
    and rows 1, 3, 5, ...), as two forward passes written out by hand."""
    x, y = regression_data(32)
    model = nx.nn.Sequential(nx.nn.Linear(3, 8), nx.nn.BatchNorm1d(8), nx.nn.ReLU(), nx.nn.Linear(8, 1))
    loss_fn = nx.supervised_loss(model, nx.losses.mse)
    params, model_state = model.init(0), model.init_state()
    step = nx.make_train_step(loss_fn, optax.sgd(0.1), accumulate=2)
    state, _ = step(nx.TrainState.create(params, optax.sgd(0.1), model_state=model_state), (x, y))

    def loss_and_state(params, model_state, batch):
        loss, _, new_state = loss_fn(params, batch, state=model_state, train=True)
        return loss, new_state

    grads = []
    for rows in (slice(0, None, 2), slice(1, None, 2)):
        (_, model_state), g = jax.value_and_grad(loss_and_state, has_aux=True)(params, model_state, (x[rows], y[rows]))
        grads.append(g)
    assert_trees_close(state.model_state, model_state)
    expected = jax.tree_util.tree_map(lambda p, a, b: p - 0.1 * (a + b) / 2, params, *grads)
    assert_trees_close(state.params, expected)


@pytest.mark.parametrize("fused", [True, False])
def test_fit_with_accumulation_trains_as_without(fused):
    """`batch_size` is the examples per update: accumulation changes memory, not the result."""
    x, y = regression_data(96)
    common = dict(epochs=2, batch_size=24, key=0, progress=False, fused=fused)
    plain, plain_history = nx.fit(LOSS_FN, optax.adam(1e-2), MODEL.init(0), (x, y), **common)
    split, history = nx.fit(LOSS_FN, optax.adam(1e-2), MODEL.init(0), (x, y), accumulate=3, **common)
    assert int(split.step) == int(plain.step) == 8
    assert_trees_close(split.params, plain.params)
    np.testing.assert_allclose(history.steps["loss"], plain_history.steps["loss"], rtol=1e-5)


def test_batches_that_do_not_split_are_named():
    x, y = regression_data(96)
    step = nx.make_train_step(LOSS_FN, optax.sgd(0.1), accumulate=4)
    with pytest.raises(ValueError, match=r"accumulate=4\): a batch of 30 examples does not split into 4 microbatches"):
        step(nx.TrainState.create(MODEL.init(0), optax.sgd(0.1)), (x[:30], y[:30]))
    with pytest.raises(ValueError, match="batch_size=30 does not split into accumulate=4 microbatches"):
        nx.fit(LOSS_FN, optax.sgd(0.1), MODEL.init(0), (x, y), epochs=1, batch_size=30, key=0, accumulate=4)
    with pytest.raises(ValueError, match=r"the last batch \(90 % 32 = 26\) does not split.*or pass drop_last=True"):
        nx.fit(LOSS_FN, optax.sgd(0.1), MODEL.init(0), (x[:90], y[:90]), epochs=1, batch_size=32, key=0, accumulate=4)
    with pytest.raises(ValueError, match="accumulate must be a positive int"):
        nx.make_train_step(LOSS_FN, optax.sgd(0.1), accumulate=0)
    state, _ = nx.fit(LOSS_FN, optax.sgd(0.1), MODEL.init(0), (x[:90], y[:90]), epochs=1, batch_size=32, key=0,
                      accumulate=4, drop_last=True, progress=False)
    assert int(state.step) == 2
