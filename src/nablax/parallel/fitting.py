"""The checks `fit(..., mesh=...)` makes before it compiles anything."""

from __future__ import annotations

import jax
from jax.sharding import Mesh

from .meshes import DATA_AXIS, axis_size, check_mesh


def check_fit_on_mesh(mesh: Mesh, num_examples: int, *, batch_size: int, drop_last: bool, fused: bool | None,
                      accumulate: int = 1) -> bool | None:
    """Raises a clear error when `fit`'s batches (each of their `accumulate` microbatches)
    cannot split across the mesh's `'data'` axis (`num_examples` counts every process's
    examples); returns whether to fuse epochs (several processes always fuse: the data
    lives on their devices, split among them)."""
    check_mesh(mesh)
    ways = axis_size(mesh, DATA_AXIS)
    if batch_size % ways:
        raise ValueError(
            f"fit: batch_size={batch_size} does not split evenly across the {ways} devices of the mesh's "
            f"'{DATA_AXIS}' axis; use a multiple of {ways} (e.g. {max(ways, batch_size - batch_size % ways)}). "
            f"batch_size is the global batch, summed over all devices and processes"
        )
    if batch_size % (ways * accumulate):
        raise ValueError(
            f"fit: the {accumulate} microbatches of batch_size={batch_size} do not split evenly across the {ways} "
            f"devices of the mesh's '{DATA_AXIS}' axis; use a multiple of {ways * accumulate}"
        )
    last = num_examples % batch_size
    if last and not drop_last and last % (ways * accumulate):
        raise ValueError(
            f"fit: the last batch of each epoch holds {last} examples ({num_examples} % {batch_size}), which do not "
            f"split evenly across the {ways} devices of the mesh's '{DATA_AXIS}' axis; pass drop_last=True, or "
            f"choose a batch size that leaves a multiple of {ways}"
        )
    if jax.process_count() > 1:
        if fused is False:
            raise ValueError(
                "fit: with several processes each epoch runs as one compiled program over the data split across "
                "every device (fused=None or True); for data that does not fit, write the loop with "
                "nx.make_train_step(..., mesh=mesh), feeding each process's batches"
            )
        return True
    return fused
