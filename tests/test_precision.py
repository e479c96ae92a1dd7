"""Mixed precision: float32 parameters, bfloat16/float16 compute, float32 loss and update;
float16's dynamic loss scale skips overflowing steps and recovers."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import nablax as nx


def test_the_forward_pass_computes_in_bfloat16_and_the_rest_in_float32():
    seen = {}
    model = nx.nn.MLP([4, 8, 3])
    criterion_inputs = []

    def loss_fn(params, batch):
        inputs, targets = batch
        seen.update(weight=params["0"]["weight"].dtype, inputs=inputs.dtype, targets=targets.dtype)
        outputs = model.apply(params, inputs)
        criterion_inputs.append(outputs.dtype)
        return nx.losses.cross_entropy(outputs.astype(jnp.float32), targets), {"half": outputs.mean()}

    step = nx.make_train_step(loss_fn, optax.adam(1e-2), precision="bfloat16")
    x, y = np.ones((8, 4), np.float32), np.arange(8, dtype=np.int32) % 3
    state, metrics = step(nx.TrainState.create(model.init(0), optax.adam(1e-2)), (x, y))
    assert seen == {"weight": jnp.bfloat16, "inputs": jnp.bfloat16, "targets": jnp.int32}
    assert criterion_inputs == [jnp.bfloat16]
    assert {str(leaf.dtype) for leaf in jax.tree_util.tree_leaves((state.params, state.opt_state))} == {"float32", "int32"}
    assert metrics["loss"].dtype == metrics["half"].dtype == jnp.float32


def digits_accuracy(precision, epochs=8):
    """Test accuracy of the demo's digits MLP (64-128-10) after `epochs` of SGD, evaluated
    in the same precision."""
    from nablax.demo import load_digits_split

    x_train, x_test, y_train, y_test = load_digits_split()
    model = nx.nn.MLP([64, 128, 10])
    loss_fn = nx.supervised_loss(model, nx.losses.cross_entropy, metrics={"accuracy": nx.metrics.accuracy})
    state, history = nx.fit(loss_fn, optax.sgd(0.1, momentum=0.9), model.init(0), (x_train, y_train), epochs=epochs,
                            batch_size=32, key=0, eval_data=(x_test, y_test), progress=False, precision=precision)
    assert {str(leaf.dtype) for leaf in jax.tree_util.tree_leaves(state.params)} == {"float32"}
    return history["val_accuracy"][-1]


def test_bfloat16_learns_the_digits_as_well_as_float32():
    pytest.importorskip("sklearn")
    full, half = digits_accuracy(None), digits_accuracy(nx.Precision(compute="bfloat16"))
    assert full > 0.95 and abs(half - full) <= 0.01, (full, half)


def overflowing_problem():
    """w * 4 against 0: the gradient, 32 w, overflows float16 (max 65504) once the loss is
    scaled by more than 2047: 2**15 at first, then 2**14, ..., 2**10, which fits."""
    loss_fn = lambda params, x: jnp.mean((params["w"] * x) ** 2)  # noqa: E731
    return loss_fn, {"w": jnp.ones(())}, jnp.full((4,), 4.0)


def test_float16_skips_overflowing_steps_and_lowers_the_scale_until_it_fits():
    loss_fn, params, x = overflowing_problem()
    optimizer = optax.adam(0.1)
    step = nx.make_train_step(loss_fn, optimizer, precision="float16", donate=False)
    state = nx.TrainState.create(params, optimizer, precision="float16")
    assert float(state.loss_scale.scale) == 2.0**15
    scales = []
    for _ in range(5):
        state, metrics = step(state, x)
        scales.append(float(metrics["loss_scale"]))
        assert float(state.params["w"]) == 1.0 and int(state.opt_state[0].count) == 0  # skipped: nothing changed
    assert scales == [2.0**15, 2.0**14, 2.0**13, 2.0**12, 2.0**11] and float(state.loss_scale.scale) == 2.0**10
    state, metrics = step(state, x)  # 32 * 1024 fits: the step is taken, with the true gradient
    by_hand = optimizer.update({"w": jnp.float32(32.0)}, optimizer.init(params), params)[0]["w"]
    assert float(state.params["w"]) == pytest.approx(1.0 + float(by_hand), rel=1e-3)
    assert int(state.opt_state[0].count) == 1 and float(state.loss_scale.scale) == 2.0**10
    assert state.step == 6  # every call counts


def test_the_scale_grows_after_enough_finite_steps():
    loss_fn, params, x = overflowing_problem()
    precision = nx.Precision(compute="float16", initial_scale=256.0, growth_interval=3)
    step = nx.make_train_step(loss_fn, optax.sgd(1e-4), precision=precision)
    state = nx.TrainState.create(params, optax.sgd(1e-4), precision=precision)
    scales = []
    for _ in range(7):
        state, metrics = step(state, x)
        scales.append(float(metrics["loss_scale"]))
    assert scales == [256.0, 256.0, 256.0, 512.0, 512.0, 512.0, 1024.0]


def test_fit_trains_in_float16_with_its_loss_scale_in_the_state():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    loss_fn = nx.supervised_loss(nx.nn.Linear(3, 1), nx.losses.mse)
    run = dict(epochs=6, batch_size=16, key=0, progress=False)
    _, full = nx.fit(loss_fn, optax.adam(0.05), nx.nn.Linear(3, 1).init(0), (x, y), **run)
    state, history = nx.fit(loss_fn, optax.adam(0.05), nx.nn.Linear(3, 1).init(0), (x, y), precision="float16", **run)
    assert history["loss"][-1] < 0.2 * history["loss"][0]
    assert float(state.loss_scale.scale) == 2.0**14  # one step overflowed at 2**15 and was skipped
    np.testing.assert_array_equal(history.steps["loss_scale"][:3], [2.0**15, 2.0**15, 2.0**14])
    # Started at a scale that never overflows here, float16 follows float32 to its three digits.
    _, history = nx.fit(loss_fn, optax.adam(0.05), nx.nn.Linear(3, 1).init(0), (x, y),
                        precision=nx.Precision("float16", initial_scale=1024.0), **run)
    np.testing.assert_allclose(history["loss"], full["loss"], rtol=5e-3)


def test_precision_errors_say_what_to_pass():
    loss_fn, params, x = overflowing_problem()
    with pytest.raises(TypeError, match=r"precision must be a compute dtype name \('float32', 'bfloat16', 'float16'\)"):
        nx.make_train_step(loss_fn, optax.sgd(0.1), precision="half")
    with pytest.raises(ValueError, match="compute must be one of float32, bfloat16, float16, got 'int8'"):
        nx.Precision(compute="int8")
    step = nx.make_train_step(loss_fn, optax.sgd(0.1), precision="float16")
    with pytest.raises(ValueError, match=r"the state has no loss scale.*precision="):
        step(nx.TrainState.create(params, optax.sgd(0.1)), x)
