"""Compiled steps on a mesh: inputs are placed by the layout's rule before the call, and
the same rule is asserted inside the program (`with_sharding_constraint`), so a step keeps
its layout when `fit` scans it over an epoch. XLA partitions the program and inserts the
gradient reductions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ..data import Data
from .layout import (
    batch_sharding,
    global_num_examples,
    shard_batch,
    shard_state,
    state_sharding,
)
from .meshes import DATA_AXIS, axis_size, check_mesh


def _is_traced(tree: Any) -> bool:
    """Whether `tree` holds tracers: the step is being traced into a larger program."""
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(tree))


class ShardedTrainStep:
    """`step(state, batch) -> (state, metrics)` on `mesh`. Called with arrays, it places the
    state by `state_sharding` and the batch (each process's rows) along `'data'`, raising a
    clear error before compiling when the batch does not split; traced inside another
    program, it only constrains the layouts."""

    def __init__(self, train_step: Callable, mesh: Mesh, *, min_fsdp_size: int | None = None, donate: bool = True):
        self.mesh = check_mesh(mesh)
        self.min_fsdp_size = min_fsdp_size

        def constrained_step(state, batch):
            state = self._constrain_state(state)
            batch = jax.lax.with_sharding_constraint(batch, batch_sharding(mesh))
            new_state, metrics = train_step(state, batch)
            return self._constrain_state(new_state), metrics

        self.jitted = jax.jit(constrained_step, donate_argnums=(0,) if donate else ())

    def _constrain_state(self, state):
        return jax.lax.with_sharding_constraint(state, state_sharding(state, self.mesh, self.min_fsdp_size))

    def __call__(self, state, batch: Data):
        if _is_traced((state, batch)):
            return self.jitted(state, batch)
        batch = shard_batch(batch, self.mesh)
        return self.jitted(shard_state(state, self.mesh, self.min_fsdp_size), batch)


class ShardedEvalStep:
    """`eval_step(state_or_params, batch) -> metrics` on `mesh`: the state placed by
    `state_sharding`, the batch split along `'data'` when it splits evenly and replicated
    otherwise (evaluation has no reason to refuse a last, uneven batch on one process)."""

    def __init__(self, eval_step: Callable, mesh: Mesh, *, min_fsdp_size: int | None = None):
        self.mesh = check_mesh(mesh)
        self.min_fsdp_size = min_fsdp_size
        self.jitted = jax.jit(eval_step)

    def __call__(self, state, batch: Data):
        if _is_traced((state, batch)):
            return self.jitted(state, batch)
        splits = global_num_examples(batch, self.mesh) % axis_size(self.mesh, DATA_AXIS) == 0
        if splits or jax.process_count() > 1:
            batch = shard_batch(batch, self.mesh)
        else:
            batch = jax.device_put(batch, NamedSharding(self.mesh, PartitionSpec()))
        return self.jitted(shard_state(state, self.mesh, self.min_fsdp_size), batch)
