"""nablax.parallel: meshes, where arrays live on them, training on several devices and on
several processes giving the parameters of one device, and the errors raised before compiling.

JAX fixes its device count when it starts, so the multi-device checks run this file as a
script in a child process with 4 CPU devices (`python tests/test_parallel.py four-devices`)
and the multi-process check starts it twice, as two processes joined by `jax.distributed`.
"""

import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.sharding import AxisType, Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

import nablax as nx

THIS_FILE = pathlib.Path(__file__).resolve()
ROOT = THIS_FILE.parent.parent
TOLERANCE = 1e-5
EPOCHS, BATCH_SIZE, MIN_FSDP_SIZE = 3, 16, 256


def regression_data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 8)).astype(np.float32)
    y = (x @ rng.standard_normal((8, 2)).astype(np.float32) + 0.1).astype(np.float32)
    return x, y


MODEL = nx.nn.MLP([8, 64, 2])  # the hidden weight, 64x8, is the only array above MIN_FSDP_SIZE
LOSS_FN = nx.supervised_loss(MODEL, nx.losses.mse)
OPTIMIZER = optax.adam(1e-2)


def train(mesh=None, *, fused=None, data=None, epochs_run=EPOCHS, **options):
    """The state after `epochs_run` epochs of fit on `mesh` (one device without)."""
    state, _ = nx.fit(LOSS_FN, OPTIMIZER, MODEL.init(0), regression_data() if data is None else data, epochs=epochs_run,
                      batch_size=BATCH_SIZE, key=0, progress=False, fused=fused, mesh=mesh, **options)
    return state


def largest_difference(tree, reference):
    return max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
               for a, b in zip(jax.tree_util.tree_leaves(tree), jax.tree_util.tree_leaves(reference)))


def placed_as(array, mesh, *spec):
    """Whether `array` lies on `mesh` as `PartitionSpec(*spec)` says (on one device an axis
    of size 1 and no axis are the same placement, and jax may report either)."""
    return array.sharding.is_equivalent_to(NamedSharding(mesh, P(*spec)), array.ndim)


def spec_names(array):
    """The array's PartitionSpec as a list of axis names (None for whole dimensions), without
    the trailing Nones that jax may or may not print."""
    spec = list(array.sharding.spec)
    while spec and spec[-1] is None:
        spec.pop()
    return spec


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_script(arguments, *, devices=1, env=None, timeout=180):
    environment = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}", **(env or {})}
    return subprocess.run([sys.executable, str(THIS_FILE), *arguments], capture_output=True, text=True,
                          timeout=timeout, env=environment, cwd=ROOT, check=False)


# -- on one device, in this process -------------------------------------------------------------------------------


def test_data_mesh_puts_every_device_on_the_data_axis():
    mesh = nx.parallel.data_mesh()
    assert mesh.axis_names == ("data",)
    assert mesh.devices.size == jax.device_count()
    assert all(kind == AxisType.Auto for kind in mesh.axis_types)


def test_mesh_sizes_must_multiply_to_the_device_count():
    grid = nx.parallel.mesh(model=1)
    assert grid.axis_names == ("data", "model") and dict(grid.shape) == {"data": jax.device_count(), "model": 1}
    with pytest.raises(ValueError, match=r"data=2 x model=1 = 2 devices, but there are 1"):
        nx.parallel.mesh(data=2, model=1)
    with pytest.raises(ValueError, match=r"do not split into groups of model=3"):
        nx.parallel.mesh(model=3)
    with pytest.raises(ValueError, match="positive int"):
        nx.parallel.mesh(model=0)


def test_parameter_spec_splits_the_largest_divisible_dimension_of_large_arrays_only():
    grid = nx.parallel.mesh(model=1)
    assert nx.parallel.parameter_spec((64, 8), grid, min_fsdp_size=256) == P("model", None)
    assert nx.parallel.parameter_spec((8, 64), grid, min_fsdp_size=256) == P(None, "model")
    assert nx.parallel.parameter_spec((2, 64), grid, min_fsdp_size=256) == P()  # below the threshold
    assert nx.parallel.parameter_spec((), grid, min_fsdp_size=0) == P()  # the step count, a key
    assert nx.parallel.parameter_spec((64, 8), nx.parallel.data_mesh(), min_fsdp_size=1) == P()  # no model axis
    assert nx.parallel.parameter_spec((64, 64), grid) == P()  # the default threshold is 2**14 elements
    assert nx.parallel.parameter_spec((128, 128), grid) == P("model", None)


def test_fit_on_a_one_device_mesh_equals_fit_without_one():
    reference = train()
    for mesh, fused in ((nx.parallel.data_mesh(), True), (nx.parallel.mesh(model=1), False)):
        state = train(mesh, fused=fused, min_fsdp_size=MIN_FSDP_SIZE)
        assert largest_difference(state.params, reference.params) < TOLERANCE
        assert placed_as(state.params["0"]["weight"], mesh, "model" if "model" in mesh.axis_names else None)


def test_train_step_on_a_mesh_places_state_and_batch():
    mesh = nx.parallel.mesh(model=1)
    x, y = regression_data()
    step = nx.make_train_step(LOSS_FN, OPTIMIZER, mesh=mesh, min_fsdp_size=MIN_FSDP_SIZE)
    state, metrics = step(nx.TrainState.create(MODEL.init(0), OPTIMIZER), (x[:16], y[:16]))
    assert placed_as(state.params["0"]["weight"], mesh, "model")
    assert placed_as(state.opt_state[0].mu["0"]["weight"], mesh, "model")  # moments sit with their parameters
    assert placed_as(state.params["2"]["weight"], mesh)
    placed = nx.parallel.shard_state(nx.TrainState.create(MODEL.init(0), OPTIMIZER), mesh, MIN_FSDP_SIZE)
    assert placed.params["0"]["weight"].sharding.spec == P("model", None)
    assert placed.params["0"]["bias"].sharding.spec == P() and placed.step == 0  # the count stays on the host
    assert np.isfinite(float(metrics["loss"]))
    batch = nx.parallel.shard_batch((x[:16], y[:16]), mesh)
    assert [spec_names(leaf) for leaf in batch] == [["data"], ["data"]]
    eval_step = nx.make_eval_step(LOSS_FN, mesh=mesh)
    assert float(eval_step(state, (x, y))["loss"]) == pytest.approx(float(nx.make_eval_step(LOSS_FN)(state.params, (x, y))["loss"]), rel=1e-5)


def test_a_mesh_without_a_data_axis_is_refused_before_compiling():
    traces = []

    def loss_fn(params, batch):
        traces.append(1)
        return LOSS_FN(params, batch)

    devices = np.array(jax.devices()[:1])
    for mesh, message in [
        (Mesh(devices, ("batch",), axis_types=(AxisType.Auto,)), r"no axis named 'data'.*nx.parallel.data_mesh\(\)"),
        (Mesh(devices.reshape(1, 1), ("data", "pipeline"), axis_types=(AxisType.Auto,) * 2), r"cannot tell what \['pipeline'\]"),
        (Mesh(devices, ("data",), axis_types=(AxisType.Explicit,)), r"AxisType.Auto"),
    ]:
        with pytest.raises(ValueError, match=message):
            nx.make_train_step(loss_fn, OPTIMIZER, mesh=mesh)
        with pytest.raises(ValueError, match=message):
            nx.fit(loss_fn, OPTIMIZER, MODEL.init(0), regression_data(), epochs=1, batch_size=16, key=0, mesh=mesh)
    with pytest.raises(TypeError, match="jax.sharding.Mesh"):
        nx.make_train_step(loss_fn, OPTIMIZER, mesh="data")
    assert traces == []


def test_a_stateful_model_trains_on_a_mesh_through_its_functional_twin():
    trained, reference = stateful_training(nx.parallel.data_mesh())
    assert largest_difference(trained, reference) < TOLERANCE


def stateful_training(mesh):
    """Trains a `nablax.stateful` module on `mesh` via `to_functional()`, loads the result back
    into the module; returns its state_dict and that of the same training without a mesh."""
    from nablax.stateful import nn

    def fresh_module():
        import nablax.stateful as torch

        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 2))

    def loss_of(apply_fn):
        return lambda params, batch: nx.losses.mse(apply_fn(params, batch[0]), batch[1])

    results = []
    for on_mesh in (mesh, None):
        module = fresh_module()
        apply_fn, params = module.to_functional()
        state, _ = nx.fit(loss_of(apply_fn), optax.sgd(0.1), params, regression_data(), epochs=2, batch_size=16,
                          key=0, progress=False, mesh=on_mesh)
        module.load_state_dict(nx.parallel.gather_to_host(state.params))
        results.append({name: np.asarray(value.numpy()) for name, value in module.state_dict().items()})
    return results


def test_process_shard_gives_each_process_a_contiguous_block():
    data = (np.arange(12).reshape(6, 2), np.arange(6))
    blocks = [nx.parallel.process_shard(data, process_index=i, process_count=3) for i in range(3)]
    np.testing.assert_array_equal(np.concatenate([block[1] for block in blocks]), data[1])
    np.testing.assert_array_equal(blocks[1][0], [[4, 5], [6, 7]])
    assert nx.parallel.process_shard(data)[1].tolist() == data[1].tolist()  # one process: everything
    with pytest.raises(ValueError, match=r"7 examples do not split evenly into 2 blocks.*first 6"):
        nx.parallel.process_shard(np.arange(7), process_index=0, process_count=2)


def test_main_process_and_gathering_in_a_single_process():
    assert nx.parallel.is_main_process()
    calls = []
    record = nx.parallel.main_process_only(lambda value: calls.append(value) or "saved")
    assert record(3) == "saved" and calls == [3]
    gathered = nx.parallel.gather_to_host({"w": jnp.arange(3.0)})
    assert isinstance(gathered["w"], np.ndarray) and gathered["w"].tolist() == [0.0, 1.0, 2.0]


def test_initialize_without_settings_is_a_single_process_run(monkeypatch):
    for variable in ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID", "SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE"):
        monkeypatch.delenv(variable, raising=False)
    assert nx.parallel.initialize() is False
    monkeypatch.setenv("JAX_NUM_PROCESSES", "1")
    assert nx.parallel.initialize() is False


def test_initialize_names_the_missing_settings(monkeypatch):
    monkeypatch.setenv("JAX_COORDINATOR_ADDRESS", "127.0.0.1:1234")
    monkeypatch.setenv("JAX_NUM_PROCESSES", "2")
    monkeypatch.delenv("JAX_PROCESS_ID", raising=False)
    for variable in ("SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(ValueError, match=r"missing process_id \(JAX_PROCESS_ID\)"):
        nx.parallel.initialize()
    with pytest.raises(ValueError, match=r"process_id must be in 0..1"):
        nx.parallel.initialize(process_id=2)
    monkeypatch.setenv("JAX_PROCESS_ID", "zero")
    with pytest.raises(ValueError, match="JAX_PROCESS_ID must be an integer"):
        nx.parallel.initialize()


# -- on 4 CPU devices, in a child process -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def four_devices():
    """What the child process with 4 CPU devices measured (see `measure_on_four_devices`)."""
    result = run_script(["four-devices"], devices=4)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_child_process_has_four_devices(four_devices):
    assert four_devices["devices"] == 4


@pytest.mark.parametrize("layout", ["data=4", "data=2,model=2", "data=1,model=4"])
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "stepwise"])
def test_training_on_four_devices_gives_the_parameters_of_one(four_devices, layout, fused):
    run = four_devices["runs"][f"{layout} fused={fused}"]
    assert run["difference"] < TOLERANCE
    model_split = ["model"] if "model" in layout else []
    assert run["param_specs"] == {"0.bias": [], "0.weight": model_split, "2.bias": [], "2.weight": []}
    assert run["moment_specs"] == run["param_specs"]
    assert run["step_on_host"]


def test_batches_are_split_along_data_inside_the_compiled_epoch(four_devices):
    assert four_devices["batch_spec_in_fused_epoch"] == ["data"]
    assert four_devices["batch_spec_in_step"] == ["data"]
    assert four_devices["shard_batch_spec"] == ["data"]
    assert four_devices["shard_batch_devices"] == 4


def test_a_batch_that_does_not_split_is_refused_before_compiling(four_devices):
    errors = four_devices["errors"]
    assert "a global batch of 6 examples does not split evenly across the 4 devices of the mesh's 'data' axis" in errors["step"]
    assert "multiple of 4" in errors["step"]
    assert "batch_size=6 does not split evenly across the 4 devices" in errors["fit batch_size"]
    assert "the last batch of each epoch holds 2 examples" in errors["fit last batch"]
    assert "drop_last=True" in errors["fit last batch"]
    assert four_devices["traces_before_errors"] == 0
    assert four_devices["drop_last_difference"] < TOLERANCE
    assert "the 8 microbatches of batch_size=16 do not split evenly across the 4 devices" in errors["fit microbatches"]


def test_accumulated_microbatches_split_across_the_devices(four_devices):
    assert four_devices["accumulated_difference"] < TOLERANCE


def test_evaluation_on_four_devices_takes_uneven_batches(four_devices):
    on_mesh, on_one_device = four_devices["val_loss"]
    assert on_mesh == pytest.approx(on_one_device, rel=1e-5)


def test_an_interrupted_run_resumes_on_the_mesh(four_devices):
    assert four_devices["resumed_difference"] < TOLERANCE
    assert four_devices["resumed_spec"] == ["model"]


def test_a_stateful_model_on_four_devices(four_devices):
    assert four_devices["stateful_difference"] < TOLERANCE


def measure_on_four_devices():
    """Runs in the child process: trains on each layout, records shardings and errors."""
    reference = {fused: train(fused=fused) for fused in (True, False)}
    runs, states = {}, {}
    for name, mesh in [("data=4", nx.parallel.data_mesh()), ("data=2,model=2", nx.parallel.mesh(data=2, model=2)),
                       ("data=1,model=4", nx.parallel.mesh(data=1, model=4))]:
        for fused in (True, False):
            state = states[name, fused] = train(mesh, fused=fused, min_fsdp_size=MIN_FSDP_SIZE)
            runs[f"{name} fused={fused}"] = {
                "difference": largest_difference(state.params, reference[fused].params),
                "param_specs": {key: spec_names(value) for key, value in nx.state_dict(state.params).items()},
                "moment_specs": {key: spec_names(value) for key, value in nx.state_dict(state.opt_state[0].mu).items()},
                "step_on_host": type(state.step) is int,
            }

    seen = {}

    def recording_loss(where):
        def loss_fn(params, batch):
            jax.debug.inspect_array_sharding(batch[0], callback=lambda sharding: seen.__setitem__(where, list(sharding.spec)))
            return LOSS_FN(params, batch)
        return loss_fn

    mesh = nx.parallel.data_mesh()
    nx.fit(recording_loss("fused"), OPTIMIZER, MODEL.init(0), regression_data(), epochs=1, batch_size=16, key=0,
           progress=False, fused=True, mesh=mesh)
    x, y = regression_data()
    step = nx.make_train_step(recording_loss("step"), OPTIMIZER, mesh=mesh)
    step(nx.TrainState.create(MODEL.init(0), OPTIMIZER), (x[:16], y[:16]))
    batch = nx.parallel.shard_batch((x[:16], y[:16]), mesh)

    traces = []

    def counted_loss(params, batch):
        traces.append(1)
        return LOSS_FN(params, batch)

    errors = {}
    attempts = {
        "step": lambda: nx.make_train_step(counted_loss, OPTIMIZER, mesh=mesh)(nx.TrainState.create(MODEL.init(0), OPTIMIZER), (x[:6], y[:6])),
        "fit batch_size": lambda: nx.fit(counted_loss, OPTIMIZER, MODEL.init(0), (x, y), epochs=1, batch_size=6, key=0, mesh=mesh),
        "fit last batch": lambda: nx.fit(counted_loss, OPTIMIZER, MODEL.init(0), (x[:90], y[:90]), epochs=1, batch_size=8, key=0, mesh=mesh),
    }
    for name, attempt in attempts.items():
        try:
            attempt()
        except ValueError as error:
            errors[name] = str(error)
    # 30 rows in batches of 8: the last batch of 6 does not split across 4 devices and is replicated
    _, with_eval = nx.fit(LOSS_FN, OPTIMIZER, MODEL.init(0), (x, y), epochs=1, batch_size=16, key=0, progress=False,
                          mesh=mesh, eval_data=(x[:30], y[:30]), eval_batch_size=8)
    _, eval_reference = nx.fit(LOSS_FN, OPTIMIZER, MODEL.init(0), (x, y), epochs=1, batch_size=16, key=0, progress=False,
                               eval_data=(x[:30], y[:30]), eval_batch_size=8)
    dropped = train(mesh, data=(x[:90], y[:90]), drop_last=True)
    dropped_reference = train(data=(x[:90], y[:90]), drop_last=True)
    accumulated = train(mesh, fused=True, accumulate=2)  # each microbatch of 8 split across the 4 devices
    try:
        train(mesh, accumulate=8)
    except ValueError as error:
        errors["fit microbatches"] = str(error)

    trained, stateful_reference = stateful_training(mesh)

    fsdp, folder = nx.parallel.mesh(data=2, model=2), tempfile.mkdtemp()
    train(fsdp, epochs_run=EPOCHS - 1, checkpoint_dir=folder, min_fsdp_size=MIN_FSDP_SIZE)
    resumed = train(fsdp, checkpoint_dir=folder, resume=True, min_fsdp_size=MIN_FSDP_SIZE)
    return {
        "devices": jax.device_count(),
        "runs": runs,
        "batch_spec_in_fused_epoch": seen["fused"][:1],
        "batch_spec_in_step": seen["step"][:1],
        "shard_batch_spec": spec_names(batch[0]),
        "shard_batch_devices": len(batch[0].sharding.device_set),
        "errors": errors,
        "traces_before_errors": len(traces),
        "drop_last_difference": largest_difference(dropped.params, dropped_reference.params),
        "accumulated_difference": largest_difference(accumulated.params, reference[True].params),
        "val_loss": [with_eval["val_loss"][-1], eval_reference["val_loss"][-1]],
        "stateful_difference": largest_difference(trained, stateful_reference),
        "resumed_difference": largest_difference(resumed.params, states["data=2,model=2", True].params),
        "resumed_spec": spec_names(resumed.params["0"]["weight"]),
    }


# -- on two processes joined by jax.distributed -------------------------------------------------------------------


def gloo_is_available():
    try:
        import jaxlib._jax as xla_extension
    except ImportError:
        return True  # an older layout: let the run show whether it works
    return hasattr(xla_extension, "make_gloo_tcp_collectives")


def launch_processes(count, arguments, timeout=180):
    """Runs this file as `count` processes joined by jax.distributed on localhost; returns
    each one's (returncode, stdout, stderr). Kills them all if any hangs."""
    environment = {"JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{free_port()}", "JAX_NUM_PROCESSES": str(count),
                   "XLA_FLAGS": "--xla_force_host_platform_device_count=1", "JAX_PLATFORMS": "cpu"}
    processes = []
    try:
        for process_id in range(count):
            processes.append(subprocess.Popen(
                [sys.executable, str(THIS_FILE), *arguments], cwd=ROOT, text=True,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env={**os.environ, **environment, "JAX_PROCESS_ID": str(process_id)},
            ))
        outputs = [process.communicate(timeout=timeout) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return [(process.returncode, stdout, stderr) for process, (stdout, stderr) in zip(processes, outputs)]


def test_two_processes_train_to_the_parameters_of_one(tmp_path):
    if not gloo_is_available():
        pytest.skip("this jaxlib has no gloo CPU collectives, which jax.distributed needs on CPU")
    results = launch_processes(2, ["process", str(tmp_path)])
    if any("already in use" in stderr for _, _, stderr in results):  # another program took the free port first
        results = launch_processes(2, ["process", str(tmp_path)])
    for returncode, _, stderr in results:
        assert returncode == 0, stderr[-4000:]

    reference = train(fused=True)
    _, reference_history = nx.fit(LOSS_FN, OPTIMIZER, MODEL.init(0), regression_data(), epochs=EPOCHS, batch_size=BATCH_SIZE,
                                  key=0, progress=False, eval_data=regression_data(32, seed=1))
    saved = np.load(tmp_path / "params.npz")
    assert sorted(saved.files) == ["data.0.bias", "data.0.weight", "data.2.bias", "data.2.weight",
                                   "model.0.bias", "model.0.weight", "model.2.bias", "model.2.weight"]
    for layout in ("data", "model"):
        for name, value in nx.state_dict(reference.params).items():
            np.testing.assert_allclose(saved[f"{layout}.{name}"], value, atol=TOLERANCE, rtol=0)
    reports = [json.loads(stdout.strip().splitlines()[-1]) for _, stdout, _ in results]
    assert [report["process"] for report in reports] == [0, 1]
    assert all(report["devices"] == 2 and report["local_devices"] == 1 for report in reports)
    assert reports[0]["fsdp_spec"] == ["model"] and reports[0]["fsdp_local_rows"] == 32
    assert all(report["val_loss"] == pytest.approx(reference_history["val_loss"][-1], rel=1e-5) for report in reports)
    assert reports[0]["progress_lines"] == EPOCHS and reports[1]["progress_lines"] == 0  # only process 0 reports


def train_as_one_of_several_processes(folder):
    """Runs in each child process: joins the run, trains on its rows of the data with a data
    mesh and with parameters split across the processes, and saves from process 0."""
    import contextlib
    import io

    assert nx.parallel.initialize(initialization_timeout=60)
    data = nx.parallel.process_shard(regression_data())
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        by_data, history = nx.fit(LOSS_FN, OPTIMIZER, MODEL.init(0), data, epochs=EPOCHS, batch_size=BATCH_SIZE, key=0,
                                  progress=None, mesh=nx.parallel.data_mesh(),
                                  eval_data=nx.parallel.process_shard(regression_data(32, seed=1)))
    split_parameters = nx.parallel.mesh(data=1, model=2)  # one position along 'data': both load every row
    by_model = train(split_parameters, data=nx.parallel.process_shard(regression_data(), split_parameters),
                     min_fsdp_size=MIN_FSDP_SIZE)
    weight = by_model.params["0"]["weight"]
    arrays = {f"data.{name}": value for name, value in nx.state_dict(nx.parallel.gather_to_host(by_data.params)).items()}
    arrays.update({f"model.{name}": value for name, value in nx.state_dict(nx.parallel.gather_to_host(by_model.params)).items()})
    nx.parallel.main_process_only(np.savez)(pathlib.Path(folder) / "params.npz", **arrays)
    return {
        "process": jax.process_index(), "devices": jax.device_count(), "local_devices": jax.local_device_count(),
        "fsdp_spec": spec_names(weight), "fsdp_local_rows": weight.addressable_shards[0].data.shape[0],
        "val_loss": history["val_loss"][-1],
        "progress_lines": sum(line.startswith("epoch ") for line in printed.getvalue().splitlines()),
    }


if __name__ == "__main__":
    if sys.argv[1] == "four-devices":
        print(json.dumps(measure_on_four_devices()))
    elif sys.argv[1] == "process":
        report = train_as_one_of_several_processes(sys.argv[2])
        print(json.dumps(report))
        jax.distributed.shutdown()
