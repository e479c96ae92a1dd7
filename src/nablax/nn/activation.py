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
