"""Activations, each as a plain function and as a parameter-free layer, computing what
`torch.nn.functional` computes (GELU is exact by default, as in PyTorch)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from .layer import Layer, Params


def relu(x: jax.Array) -> jax.Array:
    """max(x, 0); its gradient at 0 is 0, as in PyTorch."""
    return jax.nn.relu(x)


def sigmoid(x: jax.Array) -> jax.Array:
    """1 / (1 + exp(-x))."""
    return jax.nn.sigmoid(x)


def tanh(x: jax.Array) -> jax.Array:
    """The hyperbolic tangent."""
    return jnp.tanh(x)


def leaky_relu(x: jax.Array, negative_slope: float = 0.01) -> jax.Array:
    """x where x > 0, else negative_slope * x; its gradient at 0 is negative_slope, as in PyTorch
    (`jax.nn.leaky_relu` gives 1 there).

        >>> import jax, jax.numpy as jnp
        >>> leaky_relu(jnp.array([-2.0, 0.0, 3.0]), 0.5).tolist(), float(jax.grad(leaky_relu)(0.0, 0.5))
        ([-1.0, 0.0, 3.0], 0.5)
    """
    return jnp.where(x > 0, x, x * negative_slope)


def elu(x: jax.Array, alpha: float = 1.0) -> jax.Array:
    """x where x > 0, else alpha * (exp(x) - 1); its gradient at 0 is alpha, as in PyTorch."""
    # expm1 of a large x overflows; keep it out of the unused branch, whose inf gradient would
    # otherwise become NaN through `where`.
    return jnp.where(x > 0, x, alpha * jnp.expm1(jnp.where(x > 0, jnp.zeros_like(x), x)))


def silu(x: jax.Array) -> jax.Array:
    """x * sigmoid(x), also called swish."""
    return jax.nn.silu(x)


def softplus(x: jax.Array, beta: float = 1.0, threshold: float = 20.0) -> jax.Array:
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold, as in PyTorch.

        >>> import jax.numpy as jnp
        >>> softplus(jnp.array([0.0, 30.0])).tolist()
        [0.693147..., 30.0]
    """
    scaled = x * beta
    linear_part = scaled > threshold
    # exp overflows where the linear part is taken; feed it zeros there so that the unused
    # branch's inf/inf gradient cannot turn into NaN through `where`.
    safe = jnp.where(linear_part, jnp.zeros_like(scaled), scaled)
    return jnp.where(linear_part, x, jnp.log1p(jnp.exp(safe)) / beta)


def _check_approximate(approximate: str) -> None:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def gelu(x: jax.Array, approximate: str = "none") -> jax.Array:
    """x * Phi(x), exactly (`approximate='none'`, PyTorch's default) or by the tanh formula."""
    _check_approximate(approximate)
    return jax.nn.gelu(x, approximate=approximate == "tanh")


def softmax(x: jax.Array, dim: int = -1) -> jax.Array:
    """exp(x) / sum(exp(x)) along `dim`."""
    return jax.nn.softmax(x, axis=dim)


def log_softmax(x: jax.Array, dim: int = -1) -> jax.Array:
    """log(softmax(x)) along `dim`, computed stably."""
    return jax.nn.log_softmax(x, axis=dim)


class _Activation(Layer):
    """A parameter-free layer that applies one elementwise function."""

    def _fn(self, x):
        raise NotImplementedError

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        return self._fn(x)


@dataclasses.dataclass(frozen=True, repr=False)
class ReLU(_Activation):
    """`torch.nn.ReLU`."""

    def _fn(self, x):
        return relu(x)


@dataclasses.dataclass(frozen=True, repr=False)
class Sigmoid(_Activation):
    """`torch.nn.Sigmoid`."""

    def _fn(self, x):
        return sigmoid(x)


@dataclasses.dataclass(frozen=True, repr=False)
class Tanh(_Activation):
    """`torch.nn.Tanh`."""

    def _fn(self, x):
        return tanh(x)


@dataclasses.dataclass(frozen=True, repr=False)
class LeakyReLU(_Activation):
    """`torch.nn.LeakyReLU(negative_slope=0.01)`."""

    negative_slope: float = 0.01

    def _fn(self, x):
        return leaky_relu(x, self.negative_slope)


@dataclasses.dataclass(frozen=True, repr=False)
class ELU(_Activation):
    """`torch.nn.ELU(alpha=1.0)`."""

    alpha: float = 1.0

    def _fn(self, x):
        return elu(x, self.alpha)


@dataclasses.dataclass(frozen=True, repr=False)
class SiLU(_Activation):
    """`torch.nn.SiLU`."""

    def _fn(self, x):
        return silu(x)


@dataclasses.dataclass(frozen=True, repr=False)
class Softplus(_Activation):
    """`torch.nn.Softplus(beta=1.0, threshold=20.0)`.

        >>> Softplus(beta=2.0)
        Softplus(beta=2.0, threshold=20.0)
    """

    beta: float = 1.0
    threshold: float = 20.0

    def _fn(self, x):
        return softplus(x, self.beta, self.threshold)


@dataclasses.dataclass(frozen=True, repr=False)
class GELU(_Activation):
    """`torch.nn.GELU(approximate='none')`."""

    approximate: str = "none"

    def __post_init__(self):
        _check_approximate(self.approximate)

    def _fn(self, x):
        return gelu(x, self.approximate)


@dataclasses.dataclass(frozen=True, repr=False)
class Softmax(_Activation):
    """`torch.nn.Softmax(dim)`; `dim` defaults to the last axis."""

    dim: int = -1

    def _fn(self, x):
        return softmax(x, self.dim)


@dataclasses.dataclass(frozen=True, repr=False)
class LogSoftmax(_Activation):
    """`torch.nn.LogSoftmax(dim)`; `dim` defaults to the last axis."""

    dim: int = -1

    def _fn(self, x):
        return log_softmax(x, self.dim)
