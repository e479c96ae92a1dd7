"""Steps on a mesh: inputs are placed by the layout's rule before the call, and the same
rule is asserted inside the program (`with_sharding_constraint`), so a step keeps its layout
when `fit` scans it over an epoch. XLA partitions the program and inserts the gradient
reductions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ..data import Data
from .layout import batch_sharding, global_num_examples, shard_batch, shard_state, state_sharding
from .meshes import DATA_AXIS, axis_size, check_mesh


def _is_traced(tree: Any) -> bool:
    """Whether `tree` holds tracers: the step is being traced into a larger program."""
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(tree))


class MeshLayout:
    """Where a step's arrays live on `mesh`: the state (parameters, optimizer and model state,
    key) by `state_sharding`, batches split along `'data'`."""

    def __init__(self, mesh: Mesh, min_fsdp_size: int | None = None):
        self.mesh = check_mesh(mesh)
        self.min_fsdp_size = min_fsdp_size

    def place_state(self, tree: Any) -> Any:
        """`tree` placed on the mesh (a no-op when it already is, as in a training loop)."""
        return shard_state(tree, self.mesh, self.min_fsdp_size)

    def place_batch(self, batch: Data) -> Data:
        """Each process's rows of the global batch, split along `'data'`; raises a clear error
        before compiling when the batch does not split."""
        return shard_batch(batch, self.mesh)

    def constrain_state(self, tree: Any) -> Any:
        """Inside a program: asserts the state's layout."""
        return jax.lax.with_sharding_constraint(tree, state_sharding(tree, self.mesh, self.min_fsdp_size))

    def constrain_batch(self, batch: Data) -> Data:
        """Inside a program: asserts the batch's layout."""
        return jax.lax.with_sharding_constraint(batch, batch_sharding(self.mesh))


class ShardedEvalStep:
    """`eval_step(state_or_params, batch) -> metrics` on `mesh`: the state placed by
    `state_sharding`, the batch split along `'data'` when it splits evenly and replicated
    otherwise (evaluation has no reason to refuse a last, uneven batch on one process)."""

    def __init__(self, eval_step: Callable, mesh: Mesh, *, min_fsdp_size: int | None = None):
        self.layout = MeshLayout(mesh, min_fsdp_size)
        self.jitted = jax.jit(eval_step)

    def __call__(self, state, batch: Data):
        if _is_traced((state, batch)):
            return self.jitted(state, batch)
        mesh = self.layout.mesh
        splits = global_num_examples(batch, mesh) % axis_size(mesh, DATA_AXIS) == 0
        if splits or jax.process_count() > 1:
            batch = shard_batch(batch, mesh)
        else:
            batch = jax.device_put(batch, NamedSharding(mesh, PartitionSpec()))
        return self.jitted(self.layout.place_state(state), batch)
