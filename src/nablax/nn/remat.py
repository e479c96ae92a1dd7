"""Rematerialisation: `Remat(layer)` computes what `layer` computes but keeps only its inputs
for the backward pass, recomputing the activations inside it there (`jax.checkpoint`). A
transformer trained with `TransformerEncoder(Remat(block), n)` stores one activation per
block instead of every intermediate of every block: memory for compute."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import numpy as np

from .layer import Layer, Params, State


def _is_array(value) -> bool:
    return isinstance(value, (jax.Array, np.ndarray))


@dataclasses.dataclass(frozen=True, repr=False)
class Remat(Layer):
    """`layer` under `jax.checkpoint`: the same parameters (names included), state, results and
    gradients, with its intermediate activations recomputed in the backward pass instead of
    stored. `policy` is a `jax.checkpoint_policies` entry saying what to keep after all.

        >>> import jax, jax.numpy as jnp, nablax as nx
        >>> block = nx.nn.MLP([4, 16, 4])
        >>> params = block.init(0)
        >>> loss = lambda layer: lambda p: layer.apply(p, jnp.ones((2, 4))).sum()
        >>> plain, remat = jax.grad(loss(block))(params), jax.grad(loss(nx.nn.Remat(block)))(params)
        >>> bool(jnp.allclose(plain["0"]["weight"], remat["0"]["weight"]))
        True
    """

    layer: Layer
    policy: Callable | None = None
    prevent_cse: bool = True

    def __post_init__(self):
        if not isinstance(self.layer, Layer):
            raise TypeError(f"Remat: expected a nablax layer to wrap, got {type(self.layer).__name__}")

    # Transparent: the wrapped layer's parameters and state, under the wrapped layer's names.
    def sublayers(self):
        return []

    @property
    def has_state(self) -> bool:
        return self.layer.has_state

    def init(self, key) -> Params:
        return self.layer.init(key)

    def init_state(self) -> State:
        return self.layer.init_state()

    def apply(self, params: Params, *inputs, **options):
        # Arrays (inputs, masks, keys, state) go through jax.checkpoint as arguments; the rest
        # (train, flags, None) is static configuration, closed over.
        leaves, treedef = jax.tree_util.tree_flatten((inputs, options))
        positions = [index for index, leaf in enumerate(leaves) if _is_array(leaf)]

        def run(params, arrays):
            filled = list(leaves)
            for index, array in zip(positions, arrays):
                filled[index] = array
            inputs, options = jax.tree_util.tree_unflatten(treedef, filled)
            return self.layer.apply(params, *inputs, **options)

        checkpointed = jax.checkpoint(run, policy=self.policy, prevent_cse=self.prevent_cse)
        return checkpointed(params, [leaves[index] for index in positions])

    def describe(self) -> str:
        return f"Remat({self.layer.describe()})"

    def __repr__(self) -> str:
        return f"Remat({self.layer!r})"
