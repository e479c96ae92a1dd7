"""Learning-rate schedules (any optax schedule; the rate of each step in the history) and
gradient clipping together with accumulation, mixed precision and the moving average."""

import jax
import numpy as np
import optax
import pytest

import nablax as nx
from regression_problem import assert_trees_close, regression_data


MODEL = nx.nn.MLP([3, 16, 1])
LOSS_FN = nx.supervised_loss(MODEL, nx.losses.mse)
SCHEDULE = optax.warmup_cosine_decay_schedule(0.0, 0.1, warmup_steps=3, decay_steps=12)


def by_hand(optimizer, params, batches, *, accumulate=1, ema=None):
    """optax's own loop: each batch's gradient (the mean of its strided microbatches'), one
    update, and the average `ema * average + (1 - ema) * params`."""
    loss_of = lambda p, batch: nx.losses.mse(MODEL.apply(p, batch[0]), batch[1])  # noqa: E731
    opt_state, average = optimizer.init(params), params
    for x, y in batches:
        grads = [jax.grad(loss_of)(params, (x[i::accumulate], y[i::accumulate])) for i in range(accumulate)]
        grads = jax.tree_util.tree_map(lambda *g: sum(g) / accumulate, *grads)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        if ema is not None:
            average = jax.tree_util.tree_map(lambda a, p: ema * a + (1 - ema) * p, average, params)
    return params, average


def in_order(x, y, batch_size, epochs):
    return [(x[i:i + batch_size], y[i:i + batch_size]) for _ in range(epochs) for i in range(0, len(x), batch_size)]


def test_the_history_records_the_learning_rate_of_every_step():
    """Warmup and cosine decay through `optax.inject_hyperparams(optax.adamw)`: the rate the
    optimizer used at each step, from its state, as `history.steps["lr"]`."""
    x, y = regression_data()
    optimizer = optax.inject_hyperparams(optax.adamw)(learning_rate=SCHEDULE, weight_decay=1e-2)
    state, history = nx.fit(LOSS_FN, optimizer, MODEL.init(0), (x, y), epochs=3, batch_size=16, shuffle=False,
                            progress=False)
    expected = np.array([SCHEDULE(i) for i in range(12)])
    np.testing.assert_allclose(history.steps["lr"], expected, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(history["lr"], expected.reshape(3, 4).mean(axis=1), rtol=1e-6)
    params, _ = by_hand(optimizer, MODEL.init(0), in_order(x, y, 16, 3))
    assert_trees_close(state.params, params)


def test_a_schedule_given_straight_to_an_optimizer_trains_as_optax_does():
    """Without inject_hyperparams the rate is not in the optimizer state: training is the
    same, and the history has no `lr`."""
    x, y = regression_data()
    optimizer = optax.adamw(SCHEDULE)
    state, history = nx.fit(LOSS_FN, optimizer, MODEL.init(0), (x, y), epochs=3, batch_size=16, shuffle=False,
                            progress=False)
    assert "lr" not in history
    assert_trees_close(state.params, by_hand(optimizer, MODEL.init(0), in_order(x, y, 16, 3))[0])


def clipped():
    return optax.chain(optax.clip_by_global_norm(0.05), optax.inject_hyperparams(optax.adamw)(learning_rate=SCHEDULE))


@pytest.mark.parametrize("fused", [True, False])
def test_clipping_works_with_accumulation_schedules_and_the_average(fused):
    x, y = regression_data()
    first_grads = jax.grad(lambda p: LOSS_FN(p, (x[:16], y[:16]))[0])(MODEL.init(0))
    assert float(optax.tree.norm(first_grads)) > 10 * 0.05  # the clipping bites
    state, history = nx.fit(LOSS_FN, clipped(), MODEL.init(0), (x, y), epochs=3, batch_size=16, shuffle=False,
                            progress=False, accumulate=2, ema=0.9, fused=fused)
    params, average = by_hand(clipped(), MODEL.init(0), in_order(x, y, 16, 3), accumulate=2, ema=0.9)
    assert_trees_close(state.params, params)
    assert_trees_close(state.ema_params, average)
    np.testing.assert_allclose(history.steps["lr"], [SCHEDULE(i) for i in range(12)], rtol=1e-6, atol=1e-9)


def test_clipping_in_bfloat16_follows_float32():
    x, y = regression_data()
    run = dict(epochs=3, batch_size=16, shuffle=False, progress=False, accumulate=2, ema=0.9)
    full, _ = nx.fit(LOSS_FN, clipped(), MODEL.init(0), (x, y), **run)
    half, history = nx.fit(LOSS_FN, clipped(), MODEL.init(0), (x, y), precision="bfloat16", **run)
    assert {str(leaf.dtype) for leaf in jax.tree_util.tree_leaves((half.params, half.ema_params))} == {"float32"}
    assert_trees_close(half.params, full.params, atol=2e-2)  # bfloat16 has about three significant digits
    assert history.steps["loss"].dtype == np.float32 and "lr" in history
