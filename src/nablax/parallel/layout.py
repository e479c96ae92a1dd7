"""Where arrays live on a mesh: batches split along `'data'`, parameters (and everything
else in a `TrainState`) replicated, except those with at least `min_fsdp_size` elements,
which are split along `'model'` (FSDP-style) when the mesh has that axis.

The rule looks only at shapes, so the optimizer's moments land where their parameters do,
and the same rule holds inside a compiled step as outside it.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ..data import Data, num_examples
from .meshes import DATA_AXIS, MODEL_AXIS, axis_size, check_mesh

# 16384 elements (64 KiB in float32): below this the all-gather of a split parameter costs
# more in latency than its memory is worth.
DEFAULT_MIN_FSDP_SIZE = 2**14


def parameter_spec(shape: tuple[int, ...], mesh: Mesh, min_fsdp_size: int | None = None) -> PartitionSpec:
    """The `PartitionSpec` of an array of `shape`: its largest dimension that the `'model'`
    axis divides is split along `'model'` when it has at least `min_fsdp_size` elements and
    the mesh has a `'model'` axis; otherwise it is replicated (`PartitionSpec()`).

        >>> import nablax as nx
        >>> grid = nx.parallel.mesh(model=1)
        >>> nx.parallel.parameter_spec((256, 128), grid, min_fsdp_size=1024)
        P('model', None)
        >>> nx.parallel.parameter_spec((128,), grid, min_fsdp_size=1024)
        P()
    """
    threshold = DEFAULT_MIN_FSDP_SIZE if min_fsdp_size is None else min_fsdp_size
    if MODEL_AXIS not in mesh.axis_names or len(shape) == 0 or math.prod(shape) < threshold:
        return PartitionSpec()
    model_size = axis_size(mesh, MODEL_AXIS)
    # The largest dimension gives each device the biggest contiguous pieces; ties go to the first.
    for dim in sorted(range(len(shape)), key=lambda d: -shape[d]):
        if shape[dim] % model_size == 0:
            return PartitionSpec(*([None] * dim), MODEL_AXIS, *([None] * (len(shape) - dim - 1)))
    return PartitionSpec()


def state_sharding(tree: Any, mesh: Mesh, min_fsdp_size: int | None = None) -> Any:
    """A `NamedSharding` for each array of `tree` (parameters, optimizer state, a whole
    `TrainState`), by `parameter_spec`."""
    check_mesh(mesh)
    return jax.tree_util.tree_map(lambda leaf: NamedSharding(mesh, parameter_spec(np.shape(leaf), mesh, min_fsdp_size)), tree)


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """The sharding of batches: the leading (example) dimension split along `'data'`,
    every other dimension whole, the batch replicated along `'model'`.

        >>> import nablax as nx
        >>> nx.parallel.batch_sharding(nx.parallel.data_mesh()).spec
        P('data',)
    """
    check_mesh(mesh)
    return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def shard_state(tree: Any, mesh: Mesh, min_fsdp_size: int | None = None) -> Any:
    """`tree` (a `TrainState` or parameters) placed on `mesh` by `state_sharding`. Every
    process must pass the same values (same seed, same checkpoint).

        >>> import nablax as nx
        >>> params = nx.parallel.shard_state(nx.nn.Linear(3, 2).init(0), nx.parallel.data_mesh())
        >>> params["weight"].sharding.spec
        P()
    """
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    shardings = jax.tree_util.tree_leaves(state_sharding(tree, mesh, min_fsdp_size))
    # Python numbers (a TrainState's step count) stay on the host, where the step reads them.
    arrays = [index for index, leaf in enumerate(leaves) if not isinstance(leaf, (int, float, complex))]
    targets = [shardings[index] for index in arrays]
    if _already_placed([leaves[index] for index in arrays], targets):
        return tree  # the common case in a training loop: skip device_put's per-array dispatch
    if jax.process_count() == 1:
        placed = jax.device_put([leaves[index] for index in arrays], targets)
    else:
        placed = [_place_same_everywhere(leaves[index], sharding) for index, sharding in zip(arrays, targets)]
    for index, leaf in zip(arrays, placed):
        leaves[index] = leaf
    return treedef.unflatten(leaves)


def _place_same_everywhere(leaf: Any, sharding: NamedSharding) -> jax.Array:
    """A global array from a value every process holds whole (device_put refuses arrays
    committed to one local device when the target spans other processes' devices)."""
    if _is_global(leaf):
        return _resharded(leaf, sharding)
    return jax.make_array_from_callback(np.shape(leaf), sharding, lambda index: leaf[index])


def _already_placed(leaves: list, shardings: list) -> bool:
    return all(isinstance(leaf, jax.Array) and leaf.sharding == sharding for leaf, sharding in zip(leaves, shardings))


def _is_global(leaf: Any) -> bool:
    """Whether `leaf` is already a global array, spanning devices of other processes."""
    return isinstance(leaf, jax.Array) and not leaf.is_fully_addressable


def _resharded(array: jax.Array, sharding: NamedSharding) -> jax.Array:
    """A global array moved to `sharding` (XLA moves the pieces between processes)."""
    return array if array.sharding.is_equivalent_to(sharding, array.ndim) else jax.device_put(array, sharding)


def local_data_block(mesh: Mesh) -> tuple[int, int]:
    """`(start, stop)`: the positions along the mesh's `'data'` axis that this process's
    devices occupy. A process loads the rows of the global batch at those positions; processes
    that share positions (a `'model'` axis across hosts) load the same rows."""
    check_mesh(mesh)
    data_dim = mesh.axis_names.index(DATA_AXIS)
    here = jax.process_index()
    positions = sorted({int(index[data_dim]) for index, device in np.ndenumerate(mesh.devices) if device.process_index == here})
    if not positions:
        raise ValueError(f"process {here} has no device in the mesh; every process must take part in it")
    start, stop = positions[0], positions[-1] + 1
    if len(positions) != stop - start:
        raise ValueError(
            f"process {here}'s devices sit at positions {positions} of the mesh's '{DATA_AXIS}' axis, not one "
            f"contiguous block, so its rows of a batch are not contiguous either; make the mesh with "
            f"nx.parallel.data_mesh() or nx.parallel.mesh(...), which order devices by process"
        )
    return start, stop


def global_num_examples(data: Data, mesh: Mesh) -> int:
    """The number of examples of a global batch or dataset of which this process holds its
    rows (`process_shard`); global arrays count as they are."""
    leaves = jax.tree_util.tree_leaves(data)
    if (leaves and _is_global(leaves[0])) or jax.process_count() == 1:
        return num_examples(data)
    start, stop = local_data_block(mesh)
    return num_examples(data) * axis_size(mesh, DATA_AXIS) // (stop - start)


def check_batch_splits(data: Data, mesh: Mesh) -> int:
    """Raises a clear error when the examples of `data` (this process's rows of a global
    batch) do not split evenly across the `'data'` axis; returns the global number."""
    check_mesh(mesh)
    total = global_num_examples(data, mesh)
    ways = axis_size(mesh, DATA_AXIS)
    if total % ways:
        counted = f"{total} examples" + ("" if jax.process_count() == 1 else f" (this process holds {num_examples(data)})")
        raise ValueError(
            f"a global batch of {counted} does not split evenly across the {ways} devices of the mesh's "
            f"'{DATA_AXIS}' axis; use a batch size that is a multiple of {ways} (e.g. {max(ways, total - total % ways)})"
        )
    return total


def _place_rows(leaf: Any, sharding: NamedSharding) -> jax.Array:
    if _is_global(leaf):
        return _resharded(leaf, sharding)
    # Each process holds its own rows; together, in process order, they are the global array.
    return jax.make_array_from_process_local_data(sharding, np.asarray(leaf))


def shard_batch(batch: Data, mesh: Mesh) -> Data:
    """A global batch on `mesh`, split along `'data'`, from each process's own rows of it
    (on one process: the whole batch). Raises before any compile when the global batch does
    not split evenly.

        >>> import numpy as np, nablax as nx
        >>> x, y = nx.parallel.shard_batch((np.zeros((8, 3)), np.zeros(8)), nx.parallel.data_mesh())
        >>> x.shape, x.sharding.spec
        ((8, 3), P('data',))
    """
    sharding = batch_sharding(mesh)
    leaves = jax.tree_util.tree_leaves(batch)
    if leaves and _already_placed(leaves, [sharding] * len(leaves)):
        return batch  # placed by an earlier call, which checked that it splits
    check_batch_splits(batch, mesh)
    if jax.process_count() == 1:
        return jax.device_put(batch, sharding)  # one call for every array: one dispatch
    return jax.tree_util.tree_map(lambda leaf: _place_rows(leaf, sharding), batch)


def shard_data(data: Data, mesh: Mesh) -> Data:
    """A whole dataset on `mesh` for epochs compiled as one program: split along `'data'`
    like a batch when its examples split evenly, otherwise replicated (one process only;
    several processes each contribute their rows, which must split evenly)."""
    total, ways = global_num_examples(data, mesh), axis_size(check_mesh(mesh), DATA_AXIS)
    if total % ways == 0:
        return shard_batch(data, mesh)
    if jax.process_count() == 1:
        return jax.device_put(data, NamedSharding(mesh, PartitionSpec()))
    raise ValueError(
        f"a dataset of {total} examples on {jax.process_count()} processes does not split evenly across the "
        f"{ways} devices of the mesh's '{DATA_AXIS}' axis; keep a multiple of {ways} examples "
        f"(e.g. the first {total - total % ways} before nx.parallel.process_shard)"
    )
