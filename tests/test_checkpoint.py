"""Checkpoints in both faces: safetensors files that round-trip exactly, move to and from
PyTorch, survive a crash mid-save, refuse what does not fit, and resume training bitwise."""

import os
import pathlib
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nablax as nx
import nablax.stateful as nxt
from nablax.checkpoint import CheckpointError

ROOT = pathlib.Path(__file__).resolve().parent.parent


def leaves_equal(a, b) -> bool:
    def raw(leaf):
        if isinstance(leaf, int):  # a TrainState's step, counted on the host
            return np.asarray(leaf)
        if jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            return np.asarray(jax.random.key_data(leaf))
        return np.asarray(leaf)

    pairs = zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b))
    same_structure = jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    return same_structure and all(type(x) is type(y) and np.array_equal(raw(x), raw(y)) and getattr(x, "dtype", None) == getattr(y, "dtype", None)
                               for x, y in pairs)


def cnn():
    return nx.nn.Sequential(nx.nn.Conv2d(1, 4, 3), nx.nn.BatchNorm2d(4), nx.nn.ReLU(), nx.nn.Flatten(), nx.nn.Linear(4 * 6 * 6, 3))


def trained_state():
    model = cnn()
    optimizer = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(1e-2))
    state = nx.TrainState.create(model.init(0), optimizer, key=1, model_state=model.init_state())
    step = nx.make_train_step(nx.supervised_loss(model, nx.losses.cross_entropy), optimizer)
    x = np.random.default_rng(0).standard_normal((8, 1, 8, 8)).astype(np.float32)
    for _ in range(2):
        state, _ = step(state, (x, np.arange(8) % 3))
    return model, optimizer, state


# -- the functional face --------------------------------------------------------------------


def test_a_train_state_round_trips_bitwise_with_its_optax_state_key_and_step(tmp_path):
    model, optimizer, state = trained_state()
    path = tmp_path / "state.safetensors"
    nx.checkpoint.save(path, state, metadata={"run": "a"})
    fresh = nx.TrainState.create(model.init(5), optimizer, key=7, model_state=model.init_state())
    restored = nx.checkpoint.load(path, like=fresh)
    assert leaves_equal(restored, state)
    info = nx.checkpoint.read_metadata(path)
    assert info["step"] == 2 and info["metadata"] == {"run": "a"}
    assert info["names"][0].startswith("params.") and "model_state.1.running_mean" in info["names"]


def test_params_are_named_like_the_state_dict_and_load_without_a_template(tmp_path):
    params = cnn().init(0)
    nx.checkpoint.save(tmp_path / "p.safetensors", params)
    assert sorted(nx.checkpoint.read_metadata(tmp_path / "p.safetensors")["names"]) == sorted(nx.state_dict(params))
    assert leaves_equal(nx.checkpoint.load(tmp_path / "p.safetensors"), params)


def test_every_dtype_round_trips(tmp_path):
    tree = {
        "bf16": jnp.arange(4, dtype=jnp.bfloat16), "f16": jnp.ones(2, jnp.float16), "f64": jnp.ones(2, jnp.float64),
        "i8": jnp.arange(3, dtype=jnp.int8), "i64": jnp.arange(3, dtype=jnp.int64), "u32": jnp.arange(2, dtype=jnp.uint32),
        "bool": jnp.array([True, False]), "scalar": jnp.float32(2.5), "empty": jnp.zeros((0, 3)),
    }
    nx.checkpoint.save(tmp_path / "t.safetensors", tree)
    assert leaves_equal(nx.checkpoint.load(tmp_path / "t.safetensors", like=tree), tree)


def test_a_mismatched_template_is_refused_naming_every_entry(tmp_path):
    _, _, state = trained_state()
    nx.checkpoint.save(tmp_path / "s.safetensors", state)
    other = nx.nn.Sequential(nx.nn.Conv2d(1, 5, 3), nx.nn.BatchNorm2d(5), nx.nn.ReLU(), nx.nn.Flatten(), nx.nn.Linear(180, 3))
    like = nx.TrainState.create(other.init(0), optax.sgd(0.1), model_state=other.init_state())
    with pytest.raises(CheckpointError) as caught:
        nx.checkpoint.load(tmp_path / "s.safetensors", like=like)
    message = str(caught.value)
    for expected in ["unexpected:", "opt_state.1.0.mu.0.bias", "key", "params.0.weight: shape (4, 1, 3, 3) in the file, (5, 1, 3, 3) expected",
                     "params.4.weight: shape (3, 144) in the file, (3, 180) expected"]:
        assert expected in message
    wrong_dtype = jax.tree_util.tree_map(lambda leaf: leaf, state.params)
    wrong_dtype["4"]["bias"] = wrong_dtype["4"]["bias"].astype(jnp.float16)
    nx.checkpoint.save(tmp_path / "p.safetensors", state.params)
    with pytest.raises(CheckpointError, match=r"4\.bias: dtype float32 in the file, float16 expected"):
        nx.checkpoint.load(tmp_path / "p.safetensors", like=wrong_dtype)


def test_only_arrays_are_saved(tmp_path):
    with pytest.raises(CheckpointError, match="entry 'fn' is a function, not an array"):
        nx.checkpoint.save(tmp_path / "f.safetensors", {"fn": lambda: 0})
    assert not list(tmp_path.iterdir())


# -- damaged files --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("good") / "params.safetensors"
    nx.checkpoint.save(path, nx.nn.MLP([4, 8, 2]).init(0))
    return path


@pytest.mark.parametrize("damage, message", [
    (lambda data: b"", "too short for a header"),
    (lambda data: data[:5], "too short for a header"),
    (lambda data: data[:40], "is truncated or not a safetensors file"),
    (lambda data: data[:-4], "truncated or corrupt"),
    (lambda data: data[:8] + b"\xff" * 8 + data[16:], "its header is not JSON"),
    (lambda data: b"PK\x03\x04" + data[4:], "truncated"),
])
def test_a_truncated_or_corrupt_file_gives_a_clear_error(good_file, tmp_path, damage, message):
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(damage(good_file.read_bytes()))
    with pytest.raises(CheckpointError, match=message):
        nx.checkpoint.load(broken, like=nx.nn.MLP([4, 8, 2]).init(0))
    with pytest.raises(CheckpointError):
        nxt.load(broken)


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        nx.checkpoint.load(tmp_path / "nothing.safetensors")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damage_gives_a_checkpoint_error_or_a_whole_checkpoint(good_file, tmp_path, data):
    """Random truncation and byte flips never crash the loader or return part of a tree."""
    original = good_file.read_bytes()
    damaged = bytearray(original[: data.draw(st.integers(0, len(original)), label="length")])
    for position in data.draw(st.lists(st.integers(0, max(len(damaged) - 1, 0)), max_size=4), label="flips"):
        if damaged:
            damaged[position] ^= data.draw(st.integers(1, 255), label="xor")
    path = tmp_path / "fuzzed.safetensors"
    path.write_bytes(bytes(damaged))
    like = nx.nn.MLP([4, 8, 2]).init(0)
    try:
        loaded = nx.checkpoint.load(path, like=like)
    except CheckpointError:
        return
    assert jax.tree_util.tree_structure(loaded) == jax.tree_util.tree_structure(like)


# -- crash safety ---------------------------------------------------------------------------

SAVER = """
import sys, numpy as np, nablax as nx
path = sys.argv[1]
for generation in range(1, 10**6):
    nx.checkpoint.save(path, {"a": np.full((1024, 1024), generation, np.float32),
                              "b": np.full((1024, 1024), generation, np.float32)}, step=generation)
    print(generation, flush=True)
"""


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.13])
def test_killing_a_process_mid_save_leaves_the_previous_checkpoint(tmp_path, delay):
    path = tmp_path / "live.safetensors"
    saver = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert saver.stdout.readline().strip() == "1"  # one whole checkpoint exists
        time.sleep(delay)
        saver.send_signal(signal.SIGKILL)
    finally:
        saver.kill()
        saver.wait()
    tree = nx.checkpoint.load(path, like={"a": jnp.zeros((1024, 1024), jnp.float32), "b": jnp.zeros((1024, 1024), jnp.float32)})
    generation = nx.checkpoint.read_metadata(path)["step"]
    assert generation >= 1
    assert float(tree["a"].min()) == float(tree["b"].max()) == generation  # one save, whole


# -- PyTorch reads ours, we read PyTorch's ----------------------------------------------------


def torch_cnn(torch):
    return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.Flatten(),
                               torch.nn.Linear(4 * 6 * 6, 3))


def test_pytorch_loads_a_nablax_checkpoint_and_nablax_loads_pytorchs(torch, tmp_path):
    from safetensors.torch import load_file, save_file

    images = np.random.default_rng(1).standard_normal((2, 1, 8, 8)).astype(np.float32)
    # stateful -> PyTorch
    ours = torch_cnn(nxt).eval()
    nxt.save(ours.state_dict(), tmp_path / "ours.safetensors")
    theirs = torch_cnn(torch).eval()
    assert repr(theirs.load_state_dict(load_file(tmp_path / "ours.safetensors"))) == "<All keys matched successfully>"
    np.testing.assert_allclose(theirs(torch.tensor(images)).detach().numpy(), ours(nxt.tensor(images)).detach().numpy(), atol=1e-5)
    # functional -> PyTorch: params plus running statistics, under the same names
    model = cnn()
    params, model_state = model.init(3), model.init_state()
    nx.checkpoint.save(tmp_path / "functional.safetensors", nx.state_dict(params, model_state))
    theirs.load_state_dict(load_file(tmp_path / "functional.safetensors"))
    expected = np.asarray(model.apply(params, images, state=model_state)[0])
    np.testing.assert_allclose(theirs(torch.tensor(images)).detach().numpy(), expected, atol=1e-5)
    # PyTorch -> both faces
    save_file(torch_cnn(torch).state_dict(), tmp_path / "theirs.safetensors")
    reference = load_file(tmp_path / "theirs.safetensors")
    fresh = torch_cnn(nxt)
    assert repr(fresh.load_state_dict(nxt.load(tmp_path / "theirs.safetensors"))) == "<All keys matched successfully>"
    for name, value in fresh.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), reference[name].numpy())
    loaded = nx.checkpoint.load(tmp_path / "theirs.safetensors")
    assert np.array_equal(loaded["4"]["weight"], reference["4.weight"].numpy())


# -- the stateful face ----------------------------------------------------------------------


def test_stateful_save_keeps_tensors_dicts_lists_and_numbers(tmp_path):
    obj = {"epoch": 3, "loss": 0.25, "name": "run", "flags": (True, None), "history": [nxt.ones(2), nxt.arange(3)],
           "half": nxt.ones(2, dtype=nxt.bfloat16), 7: nxt.tensor(1.5)}
    nxt.save(obj, tmp_path / "obj.safetensors")
    back = nxt.load(tmp_path / "obj.safetensors")
    assert list(back) == list(obj) and back["flags"] == (True, None) and back["epoch"] == 3
    assert back["half"].dtype == nxt.bfloat16 and back[7].item() == 1.5
    assert back["history"][1].tolist() == [0, 1, 2] and back["history"][1].dtype == nxt.int64


@pytest.mark.parametrize("make_optimizer", [
    lambda params: nxt.optim.SGD(params, lr=0.1, momentum=0.9),
    lambda params: nxt.optim.Adam(params, lr=0.01),
], ids=["sgd-momentum", "adam"])
def test_stateful_training_resumes_exactly_from_saved_model_and_optimizer(tmp_path, make_optimizer):
    x, y = nxt.tensor(np.linspace(-1, 1, 16, dtype=np.float32).reshape(8, 2)), nxt.tensor(np.arange(8) % 3)

    def train(model, optimizer, steps):
        for _ in range(steps):
            optimizer.zero_grad()
            nxt.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()

    nxt.manual_seed(0)
    straight = nxt.nn.Linear(2, 3)
    start = {k: v.clone() for k, v in straight.state_dict().items()}
    train(straight, make_optimizer(straight.parameters()), 6)

    first = nxt.nn.Linear(2, 3)
    first.load_state_dict(start)
    optimizer = make_optimizer(first.parameters())
    train(first, optimizer, 3)
    nxt.save({"model": first.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "ckpt.safetensors")

    checkpoint = nxt.load(tmp_path / "ckpt.safetensors")
    second = nxt.nn.Linear(2, 3)
    second.load_state_dict(checkpoint["model"])
    resumed = make_optimizer(second.parameters())
    resumed.load_state_dict(checkpoint["optimizer"])
    train(second, resumed, 3)
    for name, value in straight.state_dict().items():
        np.testing.assert_array_equal(second.state_dict()[name].numpy(), value.numpy())


def test_stateful_save_refuses_objects_it_would_have_to_pickle(tmp_path):
    with pytest.raises(TypeError, match="cannot store objects of type function"):
        nxt.save({"fn": lambda: 0}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="expected a file path"):
        nxt.save(nxt.ones(1), open(os.devnull, "wb"))
    assert not list(tmp_path.iterdir())


# -- resuming is exact ----------------------------------------------------------------------

RESUME = """
import sys, numpy as np, optax, jax, nablax as nx
mode, path, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
model = nx.nn.Sequential(nx.nn.Linear(4, 16), nx.nn.ReLU(), nx.nn.Dropout(0.3), nx.nn.Linear(16, 3))
optimizer = optax.sgd(0.1, momentum=0.9)
step = nx.make_train_step(nx.supervised_loss(model, nx.losses.cross_entropy), optimizer)
rng = np.random.default_rng(0)
x, y = rng.standard_normal((64, 4)).astype(np.float32), rng.integers(0, 3, 64).astype(np.int32)
state = nx.TrainState.create(model.init(0), optimizer, key=0)
if mode == "resume":
    state = nx.checkpoint.load(path, like=state)
for i in range(int(state.step), int(state.step) + steps):
    state, _ = step(state, (x[i % 8 * 8:][:8], y[i % 8 * 8:][:8]))
nx.checkpoint.save(path, state)
"""


def test_n_steps_save_load_in_a_new_process_n_steps_equals_2n_steps_bitwise(tmp_path):
    def run(*arguments):
        result = subprocess.run([sys.executable, "-c", RESUME, *map(str, arguments)], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr

    run("fresh", tmp_path / "straight.safetensors", 10)
    run("fresh", tmp_path / "split.safetensors", 5)
    run("resume", tmp_path / "split.safetensors", 5)
    model = nx.nn.Sequential(nx.nn.Linear(4, 16), nx.nn.ReLU(), nx.nn.Dropout(0.3), nx.nn.Linear(16, 3))
    like = nx.TrainState.create(model.init(0), optax.sgd(0.1, momentum=0.9), key=0)
    straight = nx.checkpoint.load(tmp_path / "straight.safetensors", like=like)
    split = nx.checkpoint.load(tmp_path / "split.safetensors", like=like)
    assert int(split.step) == 10 and leaves_equal(split, straight)


# -- fit ------------------------------------------------------------------------------------


def fit_setup():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((50, 4)).astype(np.float32), rng.integers(0, 3, 50).astype(np.int32)
    model = nx.nn.Sequential(nx.nn.Linear(4, 8), nx.nn.ReLU(), nx.nn.Dropout(0.2), nx.nn.Linear(8, 3))
    return nx.supervised_loss(model, nx.losses.cross_entropy), model.init(0), (x, y)


@pytest.mark.parametrize("fused", [True, False])
def test_fit_checkpoints_every_k_epochs_and_resumes_to_the_same_parameters(tmp_path, fused):
    loss_fn, params, data = fit_setup()
    optimizer = optax.adam(1e-2)
    run = dict(batch_size=16, key=0, progress=False, fused=fused)
    straight, _ = nx.fit(loss_fn, optimizer, params, data, epochs=7, **run)
    folder = tmp_path / "ckpt"
    nx.fit(loss_fn, optimizer, params, data, epochs=5, checkpoint_dir=folder, checkpoint_every=2, keep_checkpoints=2, **run)
    assert sorted(p.name for p in folder.iterdir()) == ["epoch-000004.safetensors", "epoch-000005.safetensors"]
    resumed, history = nx.fit(loss_fn, optimizer, params, data, epochs=7, checkpoint_dir=folder, resume=True, **run)
    assert len(history["loss"]) == 2 and int(resumed.step) == int(straight.step) == 7 * 4
    assert leaves_equal(resumed, straight)
    assert nx.checkpoint.latest(folder)[0] == 7


def test_fit_resume_without_checkpoints_starts_from_scratch(tmp_path):
    loss_fn, params, data = fit_setup()
    state, history = nx.fit(loss_fn, optax.sgd(0.1), params, data, epochs=2, batch_size=16, key=0, progress=False,
                            checkpoint_dir=tmp_path / "new", resume=True)
    assert len(history["loss"]) == 2 and nx.checkpoint.latest(tmp_path / "new")[0] == 2


def test_fit_stops_at_a_nonfinite_loss_naming_the_step_or_trains_on():
    loss_fn, params, (x, y) = fit_setup()
    x = x.copy()
    x[20] = np.nan  # in the second batch of the first epoch when not shuffled
    with pytest.raises(FloatingPointError, match=r"the loss is nan at step 2 \(epoch 1, batch 2\)") as caught:
        nx.fit(loss_fn, optax.sgd(0.1), params, (x, y), epochs=3, batch_size=16, shuffle=False, progress=False)
    assert int(caught.value.state.step) == 4 and len(caught.value.history.steps["loss"]) == 4
    state, history = nx.fit(loss_fn, optax.sgd(0.1), params, (x, y), epochs=2, batch_size=16, shuffle=False,
                            progress=False, on_nonfinite="continue")
    assert int(state.step) == 8 and np.isnan(history["loss"][-1])


@pytest.mark.parametrize("arguments, message", [
    (dict(on_nonfinite="ignore"), "on_nonfinite must be 'raise' or 'continue'"),
    (dict(checkpoint_every=0), "checkpoint_every must be a positive int"),
    (dict(resume=True), "resume=True needs checkpoint_dir"),
])
def test_fit_rejects_bad_checkpoint_arguments_before_training(arguments, message):
    loss_fn, params, data = fit_setup()
    with pytest.raises(ValueError, match=message):
        nx.fit(loss_fn, optax.sgd(0.1), params, data, epochs=1, batch_size=16, key=0, progress=False, **arguments)


def test_the_file_format_is_documented_by_its_header(good_file):
    header = good_file.read_bytes()
    size = int.from_bytes(header[:8], "little")
    text = header[8:8 + size].decode()
    assert '"format":"nablax.checkpoint/1"' in text.replace(" ", "") and "pickle" not in text


@pytest.mark.parametrize("make, advice", [
    (lambda: nxt.nn.Linear(2, 3), "torch.save(model.state_dict(), path)"),
    (lambda: nxt.optim.SGD(nxt.nn.Linear(2, 3).parameters(), lr=0.1), "torch.save(optimizer.state_dict(), path)"),
])
def test_saving_a_whole_module_or_optimizer_says_what_to_save_instead(tmp_path, make, advice):
    with pytest.raises(TypeError, match=r"cannot store a whole \w+ object") as raised:
        nxt.save(make(), tmp_path / "whole.pt")
    assert advice in str(raised.value) and ".load_state_dict(torch.load(path))" in str(raised.value)
    assert not (tmp_path / "whole.pt").exists()
