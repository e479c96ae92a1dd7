"""Several processes (one per host, or per GPU) training as one program with `jax.distributed`.

Every process runs the same script: `initialize()` joins the run, each process loads its
own rows of the data (`process_shard`), and nablax assembles them into global arrays on the
mesh. Only process 0 should print, log or write checkpoints (`is_main_process`,
`main_process_only`); `gather_to_host` brings split arrays back whole first.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh

from ..data import Data, num_examples
from .layout import local_data_block
from .meshes import DATA_AXIS, axis_size

# Launchers that start one task per process; jax.distributed reads their settings itself.
_LAUNCHER_TASK_COUNTS = {"Slurm": "SLURM_NTASKS", "Open MPI": "OMPI_COMM_WORLD_SIZE"}


def _setting(value: Any, variable: str) -> int | None:
    """`value`, else the integer in environment variable `variable`, else None."""
    if value is not None:
        return int(value)
    text = os.environ.get(variable)
    if text is None or not text.strip():
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"environment variable {variable} must be an integer, got {text!r}") from None


def _detected_launcher() -> str | None:
    """The launcher (Slurm, Open MPI) that started this process as one of several tasks, if any."""
    for launcher, variable in _LAUNCHER_TASK_COUNTS.items():
        count = os.environ.get(variable, "")
        if count.isdigit() and int(count) > 1:
            return launcher
    return None


def _use_cpu_collectives() -> None:
    """CPU devices need a collectives library to talk across processes; jax ships gloo."""
    try:
        if jax.config.jax_cpu_collectives_implementation in (None, "", "none"):
            jax.config.update("jax_cpu_collectives_implementation", "gloo")
    except AttributeError:  # a jax without the option always has its CPU collectives on
        pass


def initialize(
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    local_device_ids: int | Sequence[int] | None = None,
    cluster_detection_method: str | None = None,
    initialization_timeout: int = 300,
) -> bool:
    """Joins this process to a multi-process run (`jax.distributed.initialize`); call it at
    the top of the script, before any JAX computation. Returns whether the run has several
    processes.

    Each argument left out is read from the environment: `JAX_COORDINATOR_ADDRESS`
    (`host:port` of process 0, reachable from every host), `JAX_NUM_PROCESSES`,
    `JAX_PROCESS_ID` (0 .. n-1), and `JAX_LOCAL_DEVICE_IDS`, which jax reads itself. Under
    Slurm or Open MPI with several tasks, jax finds all of them on its own. With none of
    these set the run is a single process and nothing happens, so one script serves a
    laptop and a cluster.

        >>> import nablax as nx
        >>> nx.parallel.initialize()  # nothing configured: one process
        False
    """
    if jax.distributed.is_initialized():
        return jax.process_count() > 1
    address = coordinator_address or os.environ.get("JAX_COORDINATOR_ADDRESS") or None
    num_processes = _setting(num_processes, "JAX_NUM_PROCESSES")
    process_id = _setting(process_id, "JAX_PROCESS_ID")
    launcher = _detected_launcher()
    given = {"coordinator_address (JAX_COORDINATOR_ADDRESS)": address, "num_processes (JAX_NUM_PROCESSES)": num_processes,
             "process_id (JAX_PROCESS_ID)": process_id}
    if all(value is None for value in given.values()) and launcher is None and cluster_detection_method is None:
        return False
    if num_processes == 1:
        return False
    missing = [name for name, value in given.items() if value is None]
    if missing and launcher is None and cluster_detection_method is None:
        raise ValueError(
            f"initialize: a multi-process run needs all of coordinator_address, num_processes and process_id; "
            f"missing {', '.join(missing)}. Pass them as arguments or set the environment variables on every "
            f"host, e.g. JAX_COORDINATOR_ADDRESS=10.0.0.1:1234 JAX_NUM_PROCESSES=2 JAX_PROCESS_ID=0"
        )
    if num_processes is not None and process_id is not None and not 0 <= process_id < num_processes:
        raise ValueError(f"initialize: process_id must be in 0..{num_processes - 1} for {num_processes} processes, got {process_id}")
    _use_cpu_collectives()
    try:
        jax.distributed.initialize(
            coordinator_address=address, num_processes=num_processes, process_id=process_id,
            local_device_ids=local_device_ids, cluster_detection_method=cluster_detection_method,
            initialization_timeout=initialization_timeout,
        )
    except RuntimeError as error:
        raise RuntimeError(
            f"initialize: jax.distributed could not start ({error}). Call nx.parallel.initialize() once, at the "
            f"top of the script before any JAX computation, and check that every process can reach {address}"
        ) from error
    return jax.process_count() > 1


def is_main_process() -> bool:
    """Whether this is process 0, the one that prints, logs and writes checkpoints (always
    true in a single-process run).

        >>> import nablax as nx
        >>> nx.parallel.is_main_process()
        True
    """
    return jax.process_index() == 0


def main_process_only(function: Callable) -> Callable:
    """Decorates `function` so that it runs on process 0 only and returns None elsewhere:
    for logging and saving, not for anything that other processes must join.

        >>> import nablax as nx
        >>> @nx.parallel.main_process_only
        ... def report(loss):
        ...     print(f"loss {loss:.3f}")
        >>> report(0.25)
        loss 0.250
    """

    @functools.wraps(function)
    def on_main_process(*args, **kwargs):
        return function(*args, **kwargs) if is_main_process() else None

    return on_main_process


def process_shard(data: Data, mesh: Mesh | None = None, *, process_index: int | None = None,
                  process_count: int | None = None) -> Data:
    """This process's rows of `data`, the ones it passes to `fit(..., mesh=mesh)` or to a
    step on `mesh`: the contiguous block at the positions its devices occupy along the mesh's
    `'data'` axis. Processes that share those positions (a `'model'` axis spanning hosts) get
    the same rows. Without a mesh: block `process_index` of `process_count` equal blocks (this
    process's of all, by default), which is what `data_mesh()` needs. On one process it is
    all of `data`.

        >>> import numpy as np, nablax as nx
        >>> nx.parallel.process_shard(np.arange(8), process_index=1, process_count=2)
        array([4, 5, 6, 7])
    """
    if mesh is not None:
        if process_index is not None or process_count is not None:
            raise ValueError("process_shard: pass either a mesh or process_index/process_count, not both")
        (start, stop), blocks = local_data_block(mesh), axis_size(mesh, DATA_AXIS)
    else:
        index = jax.process_index() if process_index is None else process_index
        blocks = jax.process_count() if process_count is None else process_count
        if not 0 <= index < blocks:
            raise ValueError(f"process_shard: process_index must be in 0..{blocks - 1}, got {index}")
        start, stop = index, index + 1
    n = num_examples(data)
    if n % blocks:
        unit = f"position along the mesh's '{DATA_AXIS}' axis" if mesh is not None else "process"
        raise ValueError(
            f"process_shard: {n} examples do not split evenly into {blocks} blocks (one per {unit}); "
            f"keep a multiple of {blocks} (e.g. the first {n - n % blocks})"
        )
    size = n // blocks
    return jax.tree_util.tree_map(lambda array: array[start * size : stop * size], data)


def gather_to_host(tree: Any) -> Any:
    """`tree`'s arrays as whole NumPy arrays on every process, including those split across
    other processes' devices. Every process must call it (it communicates); then process 0
    alone saves or prints.

        >>> import jax.numpy as jnp, nablax as nx
        >>> nx.parallel.gather_to_host({"w": jnp.ones(2, jnp.float32)})
        {'w': array([1., 1.], dtype=float32)}
    """

    def to_host(leaf):
        if isinstance(leaf, jax.Array) and jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            # A typed PRNG key has no NumPy form: gather its raw data and wrap it again.
            return jax.random.wrap_key_data(to_host(jax.random.key_data(leaf)), impl=jax.random.key_impl(leaf))
        if isinstance(leaf, jax.Array) and not leaf.is_fully_addressable:
            return np.asarray(multihost_utils.process_allgather(leaf, tiled=True))
        return np.asarray(leaf)

    return jax.tree_util.tree_map(to_host, tree)
