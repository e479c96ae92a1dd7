"""Fully connected layer: `y = x @ weight.T + bias`, with PyTorch's layout and initialisation."""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp

from .._keys import as_key
from .layer import Layer, Params, check_params


@jax.custom_jvp
def without_negative_zeros(x: jax.Array) -> jax.Array:
    """`x` with -0.0 made 0.0. A product of one term keeps the sign of zero where BLAS, which
    accumulates from +0, gives 0; PyTorch never shows `-0.` from a product, so neither do
    we. (A select, because XLA simplifies `x + 0.0` away.)"""
    return jnp.where(x == 0, jnp.zeros((), x.dtype), x)


# The identity as far as derivatives go: otherwise no gradient would flow where the product
# is zero, and a weight initialised to zeros would never train.
without_negative_zeros.defjvps(lambda tangent, _, x: tangent)


def linear(x: jax.Array, weight: jax.Array, bias: jax.Array | None = None) -> jax.Array:
    """Applies `x @ weight.T + bias` over the last axis of `x`; `weight` is `[out, in]`.

        >>> import jax.numpy as jnp
        >>> linear(jnp.ones((2, 3)), jnp.ones((1, 3)), jnp.zeros(1)).tolist()
        [[3.0], [3.0]]
    """
    y = jnp.matmul(x, weight.T)
    return without_negative_zeros(y) if bias is None else y + bias


def bilinear(x1: jax.Array, x2: jax.Array, weight: jax.Array, bias: jax.Array | None = None) -> jax.Array:
    """`torch.nn.functional.bilinear`: `y[..., o] = x1[..., :] @ weight[o] @ x2[..., :] + bias[o]`,
    with `weight` `[out_features, in1_features, in2_features]`.

        >>> import jax.numpy as jnp
        >>> bilinear(jnp.ones((1, 2)), jnp.ones((1, 3)), jnp.ones((4, 2, 3))).tolist()
        [[6.0, 6.0, 6.0, 6.0]]
    """
    precision = "highest" if jnp.issubdtype(weight.dtype, jnp.inexact) else None
    y = jnp.einsum("...i,oij,...j->...o", x1, weight, x2, precision=precision)
    return y if bias is None else y + bias


@dataclasses.dataclass(frozen=True, repr=False)
class Linear(Layer):
    """`torch.nn.Linear`: weight `[out_features, in_features]` and bias `[out_features]`,
    both drawn from U(-1/sqrt(in_features), 1/sqrt(in_features)) as PyTorch does.

        >>> import nablax as nx
        >>> layer = nx.nn.Linear(3, 2)
        >>> params = layer.init(0)
        >>> {name: p.shape for name, p in params.items()}
        {'weight': (2, 3), 'bias': (2,)}
        >>> layer.apply(params, jnp.ones((4, 3))).shape
        (4, 2)
    """

    in_features: int
    out_features: int
    bias: bool = True
    dtype: jnp.dtype = dataclasses.field(default=jnp.float32, repr=False)

    def __post_init__(self):
        for name in ("in_features", "out_features"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {value!r}")

    def init(self, key) -> Params:
        weight_key, bias_key = jax.random.split(as_key(key))
        bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
        params = {"weight": jax.random.uniform(weight_key, (self.out_features, self.in_features), self.dtype, -bound, bound)}
        if self.bias:
            params["bias"] = jax.random.uniform(bias_key, (self.out_features,), self.dtype, -bound, bound)
        return params

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        expected = {"weight": (self.out_features, self.in_features)}
        if self.bias:
            expected["bias"] = (self.out_features,)
        check_params(self, params, expected)
        if jnp.ndim(x) == 0 or jnp.shape(x)[-1] != self.in_features:
            raise ValueError(
                f"{self!r} expects input whose last dimension is in_features={self.in_features}, "
                f"got input of shape {tuple(jnp.shape(x))}"
            )
        return linear(x, params["weight"], params.get("bias"))
