"""The exponential moving average of the parameters, kept in the state by the compiled step."""

import jax
import numpy as np
import optax
import pytest

import nablax as nx
from regression_problem import regression_data


MODEL = nx.nn.MLP([3, 8, 1])
LOSS_FN = nx.supervised_loss(MODEL, nx.losses.mse)


def test_the_average_follows_the_parameters_as_computed_by_hand():
    x, y = regression_data()
    step = nx.make_train_step(LOSS_FN, optax.sgd(0.1), ema=0.8)
    state = nx.TrainState.create(MODEL.init(0), optax.sgd(0.1), ema=True)
    average = {name: np.asarray(value, np.float64) for name, value in nx.state_dict(state.params).items()}
    for start in range(0, 64, 16):
        state, _ = step(state, (x[start:start + 16], y[start:start + 16]))
        for name, value in nx.state_dict(state.params).items():
            average[name] = 0.8 * average[name] + 0.2 * np.asarray(value, np.float64)
    for name, value in nx.state_dict(state.ema_params).items():
        np.testing.assert_allclose(value, average[name], atol=1e-6, rtol=0)
    assert not np.allclose(nx.state_dict(state.ema_params)["0.weight"], nx.state_dict(state.params)["0.weight"])


@pytest.mark.parametrize("fused", [True, False])
def test_fit_evaluates_the_average_too(fused):
    x, y = regression_data()
    state, history = nx.fit(LOSS_FN, optax.adam(1e-2), MODEL.init(0), (x, y), epochs=3, batch_size=16, key=0, ema=0.9,
                            eval_data=(x, y), progress=False, fused=fused)
    assert list(history) == ["loss", "val_loss", "val_ema_loss"]
    eval_step = nx.make_eval_step(LOSS_FN)
    assert history["val_ema_loss"][-1] == pytest.approx(float(eval_step(state.ema_params, (x, y))["loss"]), rel=1e-5)
    assert history["val_loss"][-1] == pytest.approx(float(eval_step(state.params, (x, y))["loss"]), rel=1e-5)


def test_fit_starts_an_average_for_a_state_without_one_and_checkpoints_it(tmp_path):
    x, y = regression_data()
    start = nx.TrainState.create(MODEL.init(0), optax.sgd(0.1))
    state, _ = nx.fit(LOSS_FN, optax.sgd(0.1), start, (x, y), epochs=1, batch_size=16, key=0, ema=0.5, progress=False,
                      checkpoint_dir=tmp_path)
    assert start.ema_params is None and state.ema_params is not None
    saved = nx.checkpoint.load(nx.checkpoint.latest(tmp_path)[1], like=state)
    jax.tree_util.tree_map(np.testing.assert_array_equal, saved.ema_params, state.ema_params)


def test_errors_say_how_to_keep_an_average():
    x, y = regression_data()
    step = nx.make_train_step(LOSS_FN, optax.sgd(0.1), ema=0.9)
    with pytest.raises(ValueError, match=r"ema=0.9\) but the state has none.*ema=True"):
        step(nx.TrainState.create(MODEL.init(0), optax.sgd(0.1)), (x, y))
    with pytest.raises(ValueError, match=r"ema must be a decay in \[0, 1\)"):
        nx.make_train_step(LOSS_FN, optax.sgd(0.1), ema=1.5)
