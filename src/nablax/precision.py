"""Mixed precision: parameters kept in float32, the forward and backward passes computed in
bfloat16 or float16, the loss and the optimizer in float32.

`Precision(compute="bfloat16")` (or the string `"bfloat16"`) given to `make_train_step`,
`make_eval_step` or `fit` casts the parameters and the batch's floating arrays to the
compute dtype for the loss function; the gradients come back in the parameters' float32
(the cast's own derivative casts them back), and the optimizer updates float32 parameters.
The loss and the metrics are returned in float32, and `supervised_loss` computes its
criterion from float32 outputs (as `torch.autocast` does for losses).

float16 has a narrow range: small gradients round to zero. With `loss_scaling` (on by
default for float16) the loss is multiplied by a scale before differentiating and the
gradients divided by it after, in float32. A step whose gradients are not finite is
skipped (parameters and optimizer state unchanged) and halves the scale; after
`growth_interval` finite steps in a row the scale doubles. The scale lives in the
`TrainState` (`state.loss_scale`), so it is saved in checkpoints with the rest.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

_COMPUTE_DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16, "float16": jnp.float16}


class LossScale(NamedTuple):
    """The dynamic loss scale, as arrays in the `TrainState`."""

    scale: jax.Array  # float32
    good_steps: jax.Array  # int32: finite steps since the scale last changed


@dataclasses.dataclass(frozen=True)
class Precision:
    """How a training step computes: `compute` is the dtype of the forward and backward
    passes ("float32", "bfloat16" or "float16"). `loss_scaling` (None: on for float16
    only) scales the loss dynamically, starting at `initial_scale` and doubling after
    `growth_interval` finite steps.

        >>> import jax.numpy as jnp, nablax as nx
        >>> nx.Precision(compute="float16").loss_scaling
        True
        >>> nx.Precision("bfloat16").cast({"w": jnp.ones(2), "n": jnp.arange(2)})["w"].dtype
        dtype(bfloat16)
    """

    compute: str = "float32"
    loss_scaling: bool | None = None
    initial_scale: float = 2.0**15
    growth_interval: int = 2000

    def __post_init__(self):
        if self.compute not in _COMPUTE_DTYPES:
            raise ValueError(f"Precision: compute must be one of {', '.join(_COMPUTE_DTYPES)}, got {self.compute!r}")
        if self.loss_scaling is None:
            object.__setattr__(self, "loss_scaling", self.compute == "float16")
        if not self.initial_scale > 0 or not isinstance(self.growth_interval, int) or self.growth_interval < 1:
            raise ValueError(
                f"Precision: initial_scale must be positive and growth_interval a positive int, got "
                f"{self.initial_scale!r} and {self.growth_interval!r}"
            )

    @property
    def dtype(self) -> Any:
        return _COMPUTE_DTYPES[self.compute]

    def cast(self, tree: Any) -> Any:
        """`tree` with its floating arrays in the compute dtype (integers and keys untouched)."""
        return jax.tree_util.tree_map(lambda leaf: _cast_floating(leaf, self.dtype), tree)

    def initial_loss_scale(self) -> LossScale | None:
        """The loss scale a new `TrainState` starts with (None without loss scaling)."""
        if not self.loss_scaling:
            return None
        return LossScale(jnp.asarray(self.initial_scale, jnp.float32), jnp.zeros((), jnp.int32))

    def adjusted(self, loss_scale: LossScale, finite: jax.Array) -> LossScale:
        """The scale after a step: halved (at least 1) after non-finite gradients, doubled
        after `growth_interval` finite steps in a row, else kept."""
        grows = finite & (loss_scale.good_steps + 1 >= self.growth_interval)
        scale = jnp.where(finite, jnp.where(grows, loss_scale.scale * 2, loss_scale.scale),
                          jnp.maximum(loss_scale.scale / 2, 1.0))
        good_steps = jnp.where(finite & ~grows, loss_scale.good_steps + 1, 0)
        return LossScale(scale.astype(jnp.float32), good_steps.astype(jnp.int32))


def as_precision(precision: Any) -> Precision | None:
    """`precision` as a `Precision`: a dtype name or a `Precision`; None (and float32 without
    loss scaling) computes as the arrays are, with nothing cast."""
    if precision is None:
        return None
    if not isinstance(precision, Precision):
        try:
            name = precision if isinstance(precision, str) else jnp.dtype(precision).name
        except TypeError:
            name = None
        if name not in _COMPUTE_DTYPES:
            raise TypeError(
                f"precision must be a compute dtype name ({', '.join(map(repr, _COMPUTE_DTYPES))}) or "
                f"nx.Precision(compute=...), got {precision!r}"
            )
        precision = Precision(compute=name)
    return None if precision.compute == "float32" and not precision.loss_scaling else precision


def to_float32(tree: Any) -> Any:
    """`tree` with its floating arrays in float32 (losses and metrics leave a step so)."""
    return jax.tree_util.tree_map(lambda leaf: _cast_floating(leaf, jnp.float32), tree)


def half_to_float32(tree: Any) -> Any:
    """`tree` with its float16 and bfloat16 arrays in float32, the rest as it is."""
    return jax.tree_util.tree_map(lambda leaf: _cast_floating(leaf, jnp.float32) if _is_half(leaf) else leaf, tree)


def all_finite(tree: Any) -> jax.Array:
    """Whether every element of every array in `tree` is finite, as a boolean scalar."""
    leaves = jax.tree_util.tree_leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in leaves])) if leaves else jnp.bool_(True)


def _is_half(leaf: Any) -> bool:
    return getattr(leaf, "dtype", None) in (jnp.float16, jnp.bfloat16)


def _cast_floating(leaf: Any, dtype: Any) -> Any:
    if hasattr(leaf, "dtype") and jnp.issubdtype(leaf.dtype, jnp.floating) and leaf.dtype != dtype:
        return jnp.asarray(leaf).astype(dtype)
    return leaf


__all__ = ["Precision", "LossScale", "as_precision"]
