"""Device meshes: a 1-D `'data'` mesh over every device, or a 2-D `'data'` x `'model'` one.

nablax splits batches along the axis named `'data'` and stores large parameters split along
the axis named `'model'`. Devices are ordered by process first, and `'model'` is the inner
axis, so a model group stays within one host (its fast interconnect) whenever it fits.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np
from jax.sharding import AxisType, Mesh

DATA_AXIS = "data"
MODEL_AXIS = "model"
KNOWN_AXES = (DATA_AXIS, MODEL_AXIS)


def _ordered_devices(devices: Sequence[jax.Device] | None) -> list[jax.Device]:
    """`devices` (all of them by default) ordered by process, so each process's devices are
    neighbours in the mesh and each process owns one contiguous block of every batch."""
    devices = list(jax.devices() if devices is None else devices)
    if not devices:
        raise ValueError("a mesh needs at least one device, got an empty list")
    return sorted(devices, key=lambda device: (device.process_index, device.id))


def data_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh with the axis `'data'` over `devices` (every device of every process by
    default): pure data parallelism, parameters replicated on each device.

        >>> import nablax as nx
        >>> mesh = nx.parallel.data_mesh()
        >>> mesh.axis_names, mesh.shape["data"] == len(mesh.devices)
        (('data',), True)
    """
    devices = _ordered_devices(devices)
    # Auto axes let XLA's SPMD partitioner propagate shardings from the ones nablax sets.
    return Mesh(np.array(devices), (DATA_AXIS,), axis_types=(AxisType.Auto,))


def mesh(data: int | None = None, model: int = 1, *, devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 2-D mesh `'data'` x `'model'`: batches split `data` ways; parameters with at least
    `min_fsdp_size` elements stored split `model` ways (FSDP-style). `data=None` takes every
    device not used by `model`.

        >>> import nablax as nx
        >>> grid = nx.parallel.mesh(model=1)
        >>> grid.axis_names, grid.shape["model"]
        (('data', 'model'), 1)
    """
    devices = _ordered_devices(devices)
    count = len(devices)
    if not isinstance(model, int) or isinstance(model, bool) or model < 1:
        raise ValueError(f"mesh: model must be a positive int (devices per model group), got {model!r}")
    if count % model:
        raise ValueError(
            f"mesh: {count} device(s) do not split into groups of model={model}; "
            f"choose a model size that divides {count}"
        )
    if data is None:
        data = count // model
    if not isinstance(data, int) or isinstance(data, bool) or data < 1:
        raise ValueError(f"mesh: data must be a positive int or None (all devices), got {data!r}")
    if data * model != count:
        raise ValueError(
            f"mesh: data={data} x model={model} = {data * model} devices, but there are {count}; "
            f"pass data=None to use them all, or devices=jax.devices()[:{data * model}]"
        )
    grid = np.array(devices).reshape(data, model)
    return Mesh(grid, (DATA_AXIS, MODEL_AXIS), axis_types=(AxisType.Auto, AxisType.Auto))


def check_mesh(mesh: Mesh) -> Mesh:
    """Returns `mesh` if nablax can train on it, or raises an error that says how to make one."""
    if not isinstance(mesh, Mesh):
        raise TypeError(
            f"mesh must be a jax.sharding.Mesh (e.g. nx.parallel.data_mesh()), got {type(mesh).__name__}"
        )
    names = tuple(mesh.axis_names)
    if DATA_AXIS not in names:
        raise ValueError(
            f"the mesh has axes {names} but no axis named '{DATA_AXIS}', along which nablax splits batches; "
            f"make it with nx.parallel.data_mesh() or nx.parallel.mesh(data=..., model=...), "
            f"or name your batch axis '{DATA_AXIS}'"
        )
    unknown = [name for name in names if name not in KNOWN_AXES]
    if unknown:
        raise ValueError(
            f"the mesh has axes {names}; nablax knows only '{DATA_AXIS}' (batches) and '{MODEL_AXIS}' "
            f"(large parameters), so it cannot tell what {unknown} should hold: "
            f"make the mesh with nx.parallel.mesh(data=..., model=...)"
        )
    explicit = [name for name, kind in zip(names, mesh.axis_types) if kind != AxisType.Auto]
    if explicit:
        raise ValueError(
            f"mesh axes {explicit} are {AxisType.Explicit.name}/{AxisType.Manual.name}; nablax places arrays and "
            f"lets XLA propagate shardings, which needs AxisType.Auto axes: make the mesh with "
            f"nx.parallel.mesh(...) or jax.make_mesh(..., axis_types=(jax.sharding.AxisType.Auto,) * n)"
        )
    return mesh


def axis_size(mesh: Mesh, name: str) -> int:
    """The number of devices along axis `name` of `mesh` (1 when the mesh has no such axis)."""
    return int(dict(mesh.shape).get(name, 1))
