"""Dropout with PyTorch's scaling: in training, zero each element with probability `p` and
scale the survivors by 1/(1-p); in evaluation, the identity."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from .layer import Layer, Params


def check_probability(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(x: jax.Array, p: float, key: jax.Array | None, train: bool = True) -> jax.Array:
    """Randomly zeroes elements of `x` with probability `p` when `train`, drawing from `key`.

        >>> import jax, jax.numpy as jnp
        >>> y = dropout(jnp.ones(1000), 0.5, jax.random.key(0))
        >>> sorted(set(y.tolist()))
        [0.0, 2.0]
    """
    check_probability(p)
    if not train or p == 0.0:
        return x
    if p == 1.0:
        return jnp.zeros_like(x)
    if key is None:
        raise ValueError(
            f"Dropout(p={p}) in training needs a PRNG key: pass key=jax.random.key(...) to apply "
            f"(or train=False for evaluation)"
        )
    keep = jax.random.bernoulli(key, 1.0 - p, jnp.shape(x))
    scale = jnp.asarray(1.0 / (1.0 - p), x.dtype)  # survivors times 1/(1-p), as PyTorch scales them
    return jnp.where(keep, x * scale, jnp.zeros((), x.dtype))


@dataclasses.dataclass(frozen=True, repr=False)
class Dropout(Layer):
    """`torch.nn.Dropout(p)`: active only when `apply(..., train=True, key=key)`."""

    p: float = 0.5

    def __post_init__(self):
        check_probability(self.p)

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        return dropout(x, self.p, key, train)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace=False"
