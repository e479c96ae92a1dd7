"""TrainState, the compiled steps, and fit: exactness, fused vs stepwise, errors."""

import importlib
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import nablax as nx


def regression_data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)
    return x, y


def classification_data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int32) + (x[:, 2] > 1).astype(np.int32)
    return x, y


def test_train_state_is_a_pytree_that_starts_at_step_zero():
    params = nx.nn.Linear(3, 1).init(0)
    state = nx.TrainState.create(params, optax.adam(1e-3))
    assert state.step == 0 and type(state.step) is int  # counted on the host between steps
    doubled = jax.tree_util.tree_map(lambda a: a * 2, state)
    assert isinstance(doubled, nx.TrainState)
    np.testing.assert_array_equal(doubled.params["weight"], 2 * params["weight"])


def test_sgd_step_is_exactly_the_hand_written_update():
    x, y = regression_data()
    model = nx.nn.Linear(3, 1)
    params = model.init(0)
    loss_fn = nx.supervised_loss(model, nx.losses.mse)
    step = nx.make_train_step(loss_fn, optax.sgd(0.1))
    state, metrics = step(nx.TrainState.create(params, optax.sgd(0.1)), (x, y))
    loss, grads = jax.value_and_grad(lambda p: nx.losses.mse(model.apply(p, x), y))(params)
    assert float(metrics["loss"]) == pytest.approx(float(loss), rel=1e-6)
    for name in ("weight", "bias"):
        np.testing.assert_allclose(state.params[name], params[name] - 0.1 * grads[name], rtol=1e-6, atol=1e-7)
    assert state.step == 1 and type(state.step) is int


def test_step_counts_on_the_host_across_compiled_epochs_and_jit():
    x, y = regression_data()
    model = nx.nn.Linear(3, 1)
    loss_fn = nx.supervised_loss(model, nx.losses.mse)
    step = nx.make_train_step(loss_fn, optax.sgd(0.1))
    state = nx.TrainState.create(model.init(0), optax.sgd(0.1))
    # Scanned inside a program, the count is traced; the state that comes out holds an array...
    scanned, _ = jax.jit(lambda s: jax.lax.scan(lambda s, _: step(s, (x, y)), s, length=3))(state)
    assert int(scanned.step) == 3 and isinstance(scanned.step, jax.Array)
    # ...which the next step reads once; from then on the count is an int again.
    state, _ = step(scanned, (x, y))
    assert state.step == 4 and type(state.step) is int
    twice = jax.jit(lambda s: step(step(s, (x, y))[0], (x, y))[0])(state)
    assert int(twice.step) == 6


def test_a_train_state_subclass_takes_the_same_step():
    class Tagged(nx.TrainState):
        pass

    x, y = regression_data()
    model = nx.nn.Linear(3, 1)
    step = nx.make_train_step(nx.supervised_loss(model, nx.losses.mse), optax.sgd(0.1), donate=False)
    plain = nx.TrainState.create(model.init(0), optax.sgd(0.1))
    tagged = Tagged(*plain)
    (after_plain, plain_metrics), (after_tagged, tagged_metrics) = step(plain, (x, y)), step(tagged, (x, y))
    assert after_tagged.step == after_plain.step == 1
    assert float(tagged_metrics["loss"]) == float(plain_metrics["loss"])
    for name in ("weight", "bias"):
        np.testing.assert_array_equal(after_tagged.params[name], after_plain.params[name])


def test_dropout_keys_follow_the_step_count_whichever_way_steps_run():
    """The key a step uses is fold_in(key, step): the same stream stepping from the host, in a
    scan, or after reading a count back from a program."""
    x, y = regression_data()
    model = nx.nn.Sequential(nx.nn.Linear(3, 16), nx.nn.Dropout(0.5), nx.nn.Linear(16, 1))
    loss_fn = nx.supervised_loss(model, nx.losses.mse)
    step = nx.make_train_step(loss_fn, optax.sgd(0.1), donate=False)
    start = nx.TrainState.create(model.init(0), optax.sgd(0.1), key=3)
    host = start
    host_losses = []
    for _ in range(4):
        host, metrics = step(host, (x, y))
        host_losses.append(float(metrics["loss"]))
    scanned, metrics = jax.jit(lambda s: jax.lax.scan(lambda s, _: step(s, (x, y)), s, length=4))(start)
    np.testing.assert_allclose(metrics["loss"], host_losses, rtol=1e-6)
    assert len(set(host_losses)) == 4  # a different dropout mask each step
    for ours, theirs in zip(jax.tree_util.tree_leaves(host.params), jax.tree_util.tree_leaves(scanned.params)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def _scaling_with_a_state_that_changes_structure():
    """A transform without arrays in its state whose state still changes: `()` at first, then None."""
    return optax.GradientTransformation(lambda params: (),
                                        lambda updates, state, params=None: (jax.tree_util.tree_map(lambda g: -0.1 * g, updates), None))


@pytest.mark.parametrize("optimizer", [optax.adam(1e-2), optax.chain(optax.clip_by_global_norm(1.0), optax.sgd(0.1, momentum=0.9)),
                                       optax.adamw(1e-2, weight_decay=0.1), optax.sgd(0.1),
                                       _scaling_with_a_state_that_changes_structure()],
                         ids=["adam", "chain", "adamw", "sgd", "state-changes-structure"])
def test_any_optax_transform_matches_optax_by_hand(optimizer):
    x, y = regression_data()
    model = nx.nn.MLP([3, 8, 1])
    loss_of = lambda p: nx.losses.mse(model.apply(p, x), y)
    params = model.init(1)
    step = nx.make_train_step(lambda p, batch: loss_of(p), optimizer, donate=False)
    state = nx.TrainState.create(params, optimizer)
    opt_state = optimizer.init(params)
    for _ in range(5):
        state, _ = step(state, None)
        updates, opt_state = optimizer.update(jax.grad(loss_of)(params), opt_state, params)
        params = optax.apply_updates(params, updates)
    for ours, theirs in zip(jax.tree_util.tree_leaves(state.params), jax.tree_util.tree_leaves(params)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_a_state_without_arrays_passes_through_donating_steps_unchanged():
    """Plain SGD's state holds no arrays: the step leaves it out of the program and hands the
    same object on, for a fresh state as for one a step returned."""
    x, y = regression_data()
    model = nx.nn.Linear(3, 1)
    loss_fn = nx.supervised_loss(model, nx.losses.mse)
    step = nx.make_train_step(loss_fn, optax.sgd(0.1))
    by_hand = jax.jit(lambda p: jax.tree_util.tree_map(lambda w, g: w - 0.1 * g, p, jax.grad(lambda q: loss_fn(q, (x, y))[0])(p)))
    for _ in range(2):  # a second fresh state, with a state object of its own
        state = nx.TrainState.create(model.init(0), optax.sgd(0.1))
        expected, empty = model.init(0), state.opt_state
        for _ in range(3):
            state, _ = step(state, (x, y))
            expected = by_hand(expected)
            assert state.opt_state is empty
        for name in ("weight", "bias"):
            np.testing.assert_allclose(state.params[name], expected[name], rtol=1e-6, atol=1e-7)
    assert state.step == 3


def _program_inputs(program, *args):
    """The tree of arguments `program` (a `jax.jit` function) takes when called with `args`."""
    return jax.tree_util.tree_structure(program.lower(*args).args_info[0])


def test_the_plain_path_runs_a_program_of_only_the_parameters_optimizer_state_and_batch():
    """No key, no model state, one device: the step's program has a hand-written step's
    inputs (no key, no count, no model state) and the general program is never compiled."""
    x, y = regression_data()
    model = nx.nn.Linear(3, 1)
    optimizer = optax.adam(1e-2)
    step = nx.make_train_step(nx.supervised_loss(model, nx.losses.mse), optimizer)
    train_step = step.__wrapped__
    state = nx.TrainState.create(model.init(0), optimizer)
    for _ in range(3):
        state, _ = step(state, (x, y))
    assert train_step.run == train_step.plain  # chosen at the first step, kept since
    assert (train_step.plain_program._cache_size(), train_step.general_program._cache_size()) == (1, 0)
    expected = jax.tree_util.tree_structure((state.params, state.opt_state, (x, y)))
    assert _program_inputs(train_step.plain_program, state.params, state.opt_state, (x, y)) == expected


def test_an_optimizer_state_without_arrays_never_enters_a_program():
    """Plain SGD's state: the fast path's program takes the parameters and the batch alone,
    and no program that takes the optimizer state is ever compiled."""
    x, y = regression_data()
    model = nx.nn.Linear(3, 1)
    step = nx.make_train_step(nx.supervised_loss(model, nx.losses.mse), optax.sgd(0.1))
    train_step = step.__wrapped__
    state = nx.TrainState.create(model.init(0), optax.sgd(0.1))
    state, _ = step(state, (x, y))
    chosen = train_step.run
    for _ in range(3):
        state, _ = step(state, (x, y))
        assert train_step.run is chosen  # no second look at a state the path was chosen for
    (program,) = [p for p in train_step._programs_without_opt_state.values()]
    assert _program_inputs(program, state.params, (x, y)) == jax.tree_util.tree_structure((state.params, (x, y)))
    assert program._cache_size() == 1
    assert (train_step.plain_program._cache_size(), train_step.general_program._cache_size()) == (0, 0)


def test_each_kind_of_state_takes_its_path():
    """A state that the chosen path cannot run (here: one with a key) makes the step choose
    again; the general path runs any state on the host. A traced state is traced into the
    enclosing program and leaves the host's path as it was."""
    x, y = regression_data()
    model = nx.nn.MLP([3, 8, 1])
    optimizer = optax.adam(1e-2)
    step = nx.make_train_step(nx.supervised_loss(model, nx.losses.mse), optimizer, donate=False)
    train_step = step.__wrapped__
    plain = nx.TrainState.create(model.init(0), optimizer)
    keyed = nx.TrainState.create(model.init(0), optimizer, key=0)
    step(plain, (x, y))
    assert train_step.run == train_step.plain
    step(keyed, (x, y))
    assert train_step.run == train_step.general
    step(plain, (x, y))
    assert train_step.run == train_step.general
    jax.jit(lambda s: step(s, (x, y)))(keyed)
    assert train_step.run == train_step.general
    # the general program was compiled for a state with a key and one without
    assert (train_step.plain_program._cache_size(), train_step.general_program._cache_size()) == (1, 2)


def test_metrics_from_the_loss_function_are_returned():
    x, y = classification_data()
    model = nx.nn.MLP([4, 16, 3])
    loss_fn = nx.supervised_loss(model, nx.losses.cross_entropy, metrics={"accuracy": nx.metrics.accuracy})
    eval_step = nx.make_eval_step(loss_fn)
    params = model.init(0)
    metrics = eval_step(params, (x, y))
    assert set(metrics) == {"loss", "accuracy"}
    expected = nx.metrics.accuracy(model.apply(params, x), y)
    assert float(metrics["accuracy"]) == pytest.approx(float(expected))
    # evaluate in uneven batches gives the example-weighted mean of the whole set
    batched = nx.evaluate(eval_step, params, (x, y), batch_size=50)
    assert batched["accuracy"] == pytest.approx(float(expected), abs=1e-6)
    assert batched["loss"] == pytest.approx(float(metrics["loss"]), rel=1e-5)
    assert list(batched) == ["loss", "accuracy"]


@pytest.mark.parametrize("batch_size, drop_last", [(16, False), (25, False), (25, True)])
def test_fused_epochs_equal_the_same_steps_one_by_one(batch_size, drop_last):
    x, y = classification_data()
    model = nx.nn.MLP([4, 16, 3])
    loss_fn = nx.supervised_loss(model, nx.losses.cross_entropy)
    optimizer = optax.sgd(0.1, momentum=0.9)
    params = model.init(0)
    common = dict(epochs=3, batch_size=batch_size, key=7, drop_last=drop_last, progress=False)
    fused_state, fused = nx.fit(loss_fn, optimizer, params, (x, y), fused=True, **common)
    host_state, host = nx.fit(loss_fn, optimizer, params, (x, y), fused=False, **common)

    # The same steps written out by hand: one jitted step per batch, in nablax.data's order.
    step = nx.make_train_step(loss_fn, optimizer)
    state = nx.TrainState.create(jax.tree_util.tree_map(jnp.copy, params), optimizer)
    state = state.replace(key=fused_state.key)
    losses = []
    for epoch in range(3):
        order = nx.data.epoch_order(len(x), nx.data.epoch_key(7, epoch))
        for batch in nx.data.batches_in_order((x, y), order, batch_size, drop_last=drop_last):
            state, metrics = step(state, batch)
            losses.append(float(metrics["loss"]))

    assert int(fused_state.step) == int(host_state.step) == int(state.step) == len(losses)
    for other in (host_state.params, state.params):
        for ours, theirs in zip(jax.tree_util.tree_leaves(fused_state.params), jax.tree_util.tree_leaves(other)):
            np.testing.assert_allclose(ours, theirs, atol=1e-6, rtol=0)
    np.testing.assert_allclose(fused.steps["loss"], losses, atol=1e-6)
    np.testing.assert_allclose(host.steps["loss"], losses, atol=1e-6)
    assert fused.steps_per_epoch == len(losses) // 3


def test_loss_decreases_on_a_learnable_problem():
    x, y = regression_data()
    loss_fn = nx.supervised_loss(nx.nn.Linear(3, 1), nx.losses.mse)
    state, history = nx.fit(loss_fn, optax.sgd(0.05), nx.nn.Linear(3, 1).init(0), (x, y),
                            epochs=15, batch_size=16, key=0, progress=False)
    losses = history["loss"]
    assert losses[-1] < 0.01 * losses[0]
    assert all(later <= earlier * 1.05 for earlier, later in zip(losses, losses[1:]))
    np.testing.assert_allclose(state.params["weight"], [[1.0, -2.0, 0.5]], atol=0.05)


def test_dropout_training_is_reproducible_per_key():
    x, y = classification_data()
    model = nx.nn.MLP([4, 32, 3], dropout=0.5)
    loss_fn = nx.supervised_loss(model, nx.losses.cross_entropy)
    run = lambda key: nx.fit(loss_fn, optax.sgd(0.1), model.init(0), (x, y), epochs=2, batch_size=20,
                             key=key, progress=False)[1].steps["loss"]
    np.testing.assert_array_equal(run(0), run(0))
    assert not np.array_equal(run(0), run(1))
    # Evaluation is deterministic: dropout is off and needs no key.
    eval_step = nx.make_eval_step(loss_fn)
    params = model.init(0)
    assert float(eval_step(params, (x, y))["loss"]) == float(eval_step(params, (x, y))["loss"])


def test_fit_history_eval_and_plain_progress_lines(capsys):
    x, y = classification_data()
    model = nx.nn.MLP([4, 16, 3])
    loss_fn = nx.supervised_loss(model, nx.losses.cross_entropy, metrics={"accuracy": nx.metrics.accuracy})
    params = model.init(0)
    state, history = nx.fit(loss_fn, optax.sgd(0.1), params, (x, y), epochs=3, batch_size=32, key=0,
                            eval_data=(x, y), progress=None)
    lines = capsys.readouterr().out.splitlines()  # not a terminal: plain lines
    assert [line.split("  ")[0] for line in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert "loss" in lines[0] and "val_accuracy" in lines[0]
    assert list(history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert all(len(values) == 3 for values in history.values())
    assert history.steps_per_epoch == 4 and history.steps["loss"].shape == (12,)
    assert history.seconds_per_step() > 0
    assert int(state.step) == 12
    params["0"]["weight"].block_until_ready()  # fit trained a copy: the caller's params live on


def test_fit_progress_bar_with_tqdm(capsys):
    pytest.importorskip("tqdm")
    x, y = regression_data()
    loss_fn = nx.supervised_loss(nx.nn.Linear(3, 1), nx.losses.mse)
    nx.fit(loss_fn, optax.sgd(0.1), nx.nn.Linear(3, 1).init(0), (x, y), epochs=2, batch_size=32, key=0, progress=True)
    captured = capsys.readouterr()
    assert "epoch 2/2" in captured.out + captured.err
    assert "2/2" in captured.err  # the bar itself


@pytest.mark.parametrize("nan", [False, True])
def test_fused_epochs_run_ahead_or_one_at_a_time_to_the_same_result(monkeypatch, nan):
    """Small states run their fused epochs one ahead (the next starts before this one's
    metrics are read); large ones, one at a time. Both give the same parameters, history and
    evaluation, and stop at a non-finite loss with the state of that epoch."""
    epochs_module = importlib.import_module("nablax._epochs")
    x, y = classification_data()
    if nan:
        x = x.copy()
        x[70] = np.nan  # in the first epoch's third batch (not shuffled): the second has started
    model = nx.nn.MLP([4, 16, 3])
    loss_fn = nx.supervised_loss(model, nx.losses.cross_entropy, metrics={"accuracy": nx.metrics.accuracy})
    options = dict(epochs=5, batch_size=32, shuffle=False, progress=False, fused=True,
                   eval_data=(x[:40], y[:40]))
    outcomes = []
    for limit in (1 << 30, 0):  # every state runs ahead, then none does
        monkeypatch.setattr(epochs_module, "RUN_AHEAD_STATE_BYTES", limit)
        try:
            state, history = nx.fit(loss_fn, optax.sgd(0.1), model.init(0), (x, y), **options)
        except FloatingPointError as error:
            assert "(epoch 1, batch 3)" in str(error)
            state, history = error.state, error.history
        outcomes.append((state, history))
    (ahead, ahead_history), (one_by_one, history) = outcomes
    assert int(ahead.step) == int(one_by_one.step) == (4 if nan else 20)
    jax.tree_util.tree_map(np.testing.assert_array_equal, ahead.params, one_by_one.params)
    assert dict(ahead_history) == dict(history)
    np.testing.assert_array_equal(ahead_history.steps["loss"], history.steps["loss"])
    assert len(ahead_history.epoch_seconds) == len(history.epoch_seconds)


def test_fit_resumes_from_a_train_state():
    x, y = regression_data()
    loss_fn = nx.supervised_loss(nx.nn.Linear(3, 1), nx.losses.mse)
    optimizer = optax.sgd(0.05)
    state, _ = nx.fit(loss_fn, optimizer, nx.nn.Linear(3, 1).init(0), (x, y), epochs=1, batch_size=16, key=0, progress=False)
    resumed, _ = nx.fit(loss_fn, optimizer, state, (x, y), epochs=1, batch_size=16, key=0, progress=False)
    assert int(resumed.step) == 2 * int(state.step)


def test_errors_say_what_to_pass():
    x, y = regression_data()
    model = nx.nn.Linear(3, 1)
    loss_fn = nx.supervised_loss(model, nx.losses.mse)
    with pytest.raises(TypeError, match=r"optimizer must be an optax.GradientTransformation \(e.g. optax.sgd\(0.1\)"):
        nx.make_train_step(loss_fn, "sgd")
    with pytest.raises(ValueError, match="pass key=0"):
        nx.fit(loss_fn, optax.sgd(0.1), model.init(0), (x, y), epochs=1, batch_size=8)
    with pytest.raises(ValueError, match=r"same length along axis 0, got data\[0\]: 96, data\[1\]: 95"):
        nx.fit(loss_fn, optax.sgd(0.1), model.init(0), (x, y[:-1]), epochs=1, batch_size=8, key=0)
    step = nx.make_train_step(lambda p, batch: model.apply(p, batch), optax.sgd(0.1))
    with pytest.raises(ValueError, match=r"must return a scalar loss.*got a loss of shape \(2, 1\)"):
        step(nx.TrainState.create(model.init(0), optax.sgd(0.1)), jnp.ones((2, 3)))
    with pytest.raises(TypeError, match="takes a TrainState, got dict"):
        nx.make_train_step(loss_fn, optax.sgd(0.1))(model.init(0), (x, y))
    needs_key = nx.make_train_step(lambda p, batch, key: nx.losses.mse(model.apply(p, batch[0]), batch[1]), optax.sgd(0.1))
    with pytest.raises(ValueError, match=r"TrainState has none.*key=0"):
        needs_key(nx.TrainState.create(model.init(0), optax.sgd(0.1)), (x, y))
    with pytest.raises(ValueError, match=r"Linear\(in_features=3.*got input of shape \(8, 2\)"):
        nx.fit(loss_fn, optax.sgd(0.1), model.init(0), (x[:, :2], y), epochs=1, batch_size=8, key=0)


def test_functional_face_keeps_float32_with_x64_enabled():
    """The stateful face turns on jax_enable_x64 process-wide; the functional face must not care."""
    script = textwrap.dedent("""
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp, numpy as np, optax, nablax as nx
        x = np.random.default_rng(0).standard_normal((64, 3)).astype(np.float32)
        y = (x.sum(axis=1) > 0).astype(np.int32)
        model = nx.nn.MLP([3, 8, 2])
        loss_fn = nx.supervised_loss(model, nx.losses.cross_entropy, metrics={"accuracy": nx.metrics.accuracy})
        state, history = nx.fit(loss_fn, optax.sgd(0.1), model.init(0), (x, y), epochs=2, batch_size=16, key=0, progress=False)
        dtypes = {str(leaf.dtype) for leaf in jax.tree_util.tree_leaves(state.params)}
        print(sorted(dtypes), history.steps["loss"].dtype)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['float32'] float32"


def test_repeated_fit_reuses_the_compiled_programs():
    fit_module = importlib.import_module("nablax.fit")  # the module, which nx.fit (the function) shadows
    x, y = regression_data()
    loss_fn = nx.supervised_loss(nx.nn.Linear(3, 1), nx.losses.mse)
    optimizer = optax.sgd(0.1)
    run = lambda: nx.fit(loss_fn, optimizer, nx.nn.Linear(3, 1).init(0), (x, y), epochs=1, batch_size=32, key=0, progress=False)
    run()
    hits = fit_module._compiled_programs.cache_info().hits
    run()
    assert fit_module._compiled_programs.cache_info().hits == hits + 1
