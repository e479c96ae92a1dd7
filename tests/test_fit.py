"""fit's callbacks: the built-in ones as objects, yours beside them, their order and `stop`."""

import jax
import numpy as np
import optax
import pytest

import nablax as nx
from regression_problem import regression_data


MODEL = nx.nn.Linear(3, 1)
LOSS_FN = nx.supervised_loss(MODEL, nx.losses.mse)
RUN = dict(batch_size=16, key=0, progress=False)


class Recorder(nx.callbacks.Callback):
    """Records what each hook saw, and adds a metric of its own."""

    def __init__(self):
        self.calls = []

    def on_fit_start(self, run):
        self.calls.append(("start", run.first_epoch, int(run.state.step)))

    def on_epoch_end(self, run, metrics):
        self.calls.append(("epoch", run.epoch, sorted(metrics), len(run.history["loss"]) if "loss" in run.history else 0))
        metrics["weight_norm"] = float(np.linalg.norm(run.state.params["weight"]))

    def on_fit_end(self, run):
        self.calls.append(("end", run.epoch))


def test_a_callback_sees_each_epoch_after_evaluation_and_its_metrics_are_logged(capsys):
    recorder = Recorder()
    x, y = regression_data()
    state, history = nx.fit(LOSS_FN, optax.sgd(0.1), MODEL.init(0), (x, y), epochs=2, eval_data=(x, y),
                            callbacks=[recorder], **(RUN | {"progress": None}))
    assert recorder.calls == [("start", 0, 0), ("epoch", 0, ["loss", "val_loss"], 0), ("epoch", 1, ["loss", "val_loss"], 1),
                              ("end", 1)]
    assert list(history) == ["loss", "val_loss", "weight_norm"]
    assert history["weight_norm"][-1] == pytest.approx(float(np.linalg.norm(state.params["weight"])))
    assert "weight_norm" in capsys.readouterr().out.splitlines()[-1]  # progress reports after your callbacks


class StopAfter(nx.callbacks.Callback):
    def __init__(self, epochs):
        self.epochs = epochs

    def on_epoch_end(self, run, metrics):
        run.stop = run.epoch + 1 == self.epochs


def test_stop_ends_training_after_the_epoch_and_checkpoints_it(tmp_path):
    x, y = regression_data()
    state, history = nx.fit(LOSS_FN, optax.sgd(0.1), MODEL.init(0), (x, y), epochs=10, checkpoint_dir=tmp_path,
                            checkpoint_every=5, callbacks=[StopAfter(3)], **RUN)
    assert len(history["loss"]) == 3 and int(state.step) == 3 * 4
    assert nx.checkpoint.latest(tmp_path)[0] == 3  # the last epoch run is saved, though not a multiple of 5
    resumed, rest = nx.fit(LOSS_FN, optax.sgd(0.1), MODEL.init(0), (x, y), epochs=4, checkpoint_dir=tmp_path, resume=True,
                           **RUN)
    assert len(rest["loss"]) == 1 and int(resumed.step) == 16


def test_the_built_in_hooks_can_be_passed_as_callbacks(tmp_path):
    """`Evaluate` under another prefix, `Checkpoint` with its own settings: the same as fit's keywords."""
    x, y = regression_data()
    test_x, test_y = regression_data(seed=1)
    by_keywords = nx.fit(LOSS_FN, optax.sgd(0.1), MODEL.init(0), (x, y), epochs=2, eval_data=(test_x, test_y),
                         checkpoint_dir=tmp_path / "a", **RUN)
    callbacks = [nx.callbacks.Evaluate((test_x, test_y), batch_size=10, prefix="test_"), nx.callbacks.Checkpoint(tmp_path / "b")]
    state, history = nx.fit(LOSS_FN, optax.sgd(0.1), MODEL.init(0), (x, y), epochs=2, callbacks=callbacks, **RUN)
    np.testing.assert_allclose(history["test_loss"], by_keywords[1]["val_loss"], rtol=1e-5)
    assert history["test_loss"][-1] == pytest.approx(nx.evaluate(nx.make_eval_step(LOSS_FN), state, (test_x, test_y))["loss"])
    saved = nx.checkpoint.load(nx.checkpoint.latest(tmp_path / "b")[1], like=state)
    jax.tree_util.tree_map(np.testing.assert_array_equal, saved.params, by_keywords[0].params)


def test_the_end_hook_runs_when_training_fails():
    recorder = Recorder()
    x, y = regression_data()
    x = x.copy()
    x[20] = np.nan
    with pytest.raises(FloatingPointError, match=r"epoch 1, batch 2"):
        nx.fit(LOSS_FN, optax.sgd(0.1), MODEL.init(0), (x, y), epochs=3, callbacks=[recorder],
               **(RUN | {"key": None, "shuffle": False}))
    assert recorder.calls[0][0] == "start" and recorder.calls[-1] == ("end", 0)
    assert [call[0] for call in recorder.calls] == ["start", "end"]  # the non-finite stop runs before yours


def test_bad_callbacks_are_named():
    x, y = regression_data()
    with pytest.raises(TypeError, match="callbacks must be nx.callbacks.Callback instances, got function; subclass"):
        nx.fit(LOSS_FN, optax.sgd(0.1), MODEL.init(0), (x, y), epochs=1, callbacks=[lambda run: None], **RUN)
    with pytest.raises(ValueError, match="every must be a positive int"):
        nx.callbacks.Checkpoint("folder", every=0)
    with pytest.raises(ValueError, match="same length along axis 0"):
        nx.callbacks.Evaluate((x, y[:-1]))
