"""Normalisation layers: `BatchNorm1d`/`BatchNorm2d` (running statistics kept as state),
`LayerNorm`, `RMSNorm` and `GroupNorm`, computing what PyTorch computes."""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp

from .layer import Layer, Params, State, check_params, require_state


def _count_dtype():
    """num_batches_tracked is int64 in PyTorch; int32 where JAX runs without 64-bit types."""
    return jnp.int64 if jax.config.jax_enable_x64 else jnp.int32


def batch_norm(
    x: jax.Array,
    running_mean: jax.Array | None,
    running_var: jax.Array | None,
    weight: jax.Array | None = None,
    bias: jax.Array | None = None,
    training: bool = False,
    momentum: float | None = 0.1,
    eps: float = 1e-5,
    num_batches_tracked: jax.Array | None = None,
):
    """Normalises `x` ([N, C, ...]) per channel. In training (or without running statistics)
    it uses the batch's mean and biased variance and returns the updated running statistics
    (unbiased variance, PyTorch's `momentum`; `momentum=None` is a cumulative average);
    otherwise it uses the running ones. Returns `(y, running_mean, running_var, num_batches_tracked)`.

        >>> import jax.numpy as jnp
        >>> y, mean, var, count = batch_norm(jnp.array([[1.0], [3.0]]), jnp.zeros(1), jnp.ones(1), training=True)
        >>> y.round(3).tolist(), mean.tolist(), var.tolist(), int(count)
        ([[-1.0], [1.0]], [0.2], [1.1], 1)
    """
    axes = (0,) + tuple(range(2, x.ndim))
    # A 1-D input has no channel dim (PyTorch accepts only an empty one): statistics broadcast along it.
    broadcast = (1, -1) + (1,) * (x.ndim - 2) if x.ndim > 1 else (-1,)
    use_batch = training or running_mean is None
    if use_batch:
        mean = jnp.mean(x, axis=axes)
        var = jnp.mean(jnp.square(x - mean.reshape(broadcast)), axis=axes)
    else:
        mean, var = running_mean, running_var
    y = (x - mean.reshape(broadcast)) * jax.lax.rsqrt(var.reshape(broadcast) + eps)
    if weight is not None:
        y = y * weight.reshape(broadcast)
    if bias is not None:
        y = y + bias.reshape(broadcast)
    if training and running_mean is not None:
        count = math.prod(x.shape[axis] for axis in axes)
        tracked = num_batches_tracked if num_batches_tracked is not None else jnp.zeros((), _count_dtype())
        num_batches_tracked = tracked + 1
        factor = momentum if momentum is not None else 1.0 / num_batches_tracked.astype(x.dtype)
        unbiased = var * (count / max(count - 1, 1))
        running_mean = (1 - factor) * running_mean + factor * jax.lax.stop_gradient(mean)
        running_var = (1 - factor) * running_var + factor * jax.lax.stop_gradient(unbiased)
    return y, running_mean, running_var, num_batches_tracked


@dataclasses.dataclass(frozen=True, repr=False)
class _BatchNorm(Layer):
    num_features: int
    eps: float = 1e-5
    momentum: float | None = 0.1
    affine: bool = True
    track_running_stats: bool = True
    bias: bool = True  # keyword-only in PyTorch; only meaningful with affine=True
    dtype: jnp.dtype = dataclasses.field(default=jnp.float32, repr=False)

    _input_ranks = ()

    def _affine_params(self) -> dict:
        return _affine(self.num_features, self.affine, self.bias, self.dtype)

    @property
    def has_state(self) -> bool:
        return self.track_running_stats

    def init(self, key) -> Params:
        return self._affine_params()

    def init_state(self) -> State:
        if not self.track_running_stats:
            return {}
        return {
            "running_mean": jnp.zeros(self.num_features, self.dtype),
            "running_var": jnp.ones(self.num_features, self.dtype),
            "num_batches_tracked": jnp.zeros((), _count_dtype()),
        }

    def _check_input(self, x: jax.Array, train: bool) -> None:
        if x.ndim not in self._input_ranks:
            ranks = " or ".join(f"{rank}D" for rank in self._input_ranks)
            raise ValueError(f"{self!r} expects {ranks} input [N, C, ...], got input of shape {tuple(x.shape)}")
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{self!r} expects {self.num_features} channels (dim 1), got input of shape {tuple(x.shape)}"
            )
        if train and math.prod(x.shape) // x.shape[1] == 1:
            raise ValueError(f"{self!r}: expected more than 1 value per channel when training, got input of shape {tuple(x.shape)}")

    def apply(self, params: Params, x: jax.Array, *, state: State | None = None, key=None, train: bool = False):
        self._check_input(x, train)
        check_params(self, params, {name: (self.num_features,) for name in self._affine_params()})
        if not self.track_running_stats:
            y, *_ = batch_norm(x, None, None, params.get("weight"), params.get("bias"), True, self.momentum, self.eps)
            return y
        state = require_state(self, state)
        y, mean, var, count = batch_norm(
            x, state["running_mean"], state["running_var"], params.get("weight"), params.get("bias"), train,
            self.momentum, self.eps, state["num_batches_tracked"],
        )
        return y, {"running_mean": mean, "running_var": var, "num_batches_tracked": count}

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.affine and self.bias}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """`torch.nn.BatchNorm1d` over [N, C] or [N, C, L]; its running statistics are state.

        >>> import jax.numpy as jnp, nablax as nx
        >>> layer = nx.nn.BatchNorm1d(2)
        >>> y, state = layer.apply(layer.init(0), jnp.ones((4, 2)), state=layer.init_state(), train=True)
        >>> int(state["num_batches_tracked"])
        1
    """

    _input_ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """`torch.nn.BatchNorm2d` over [N, C, H, W]; its running statistics are state."""

    _input_ranks = (4,)


def _affine(size, affine: bool, bias: bool, dtype) -> dict:
    """PyTorch's affine parameters of a normalisation layer: weight ones, bias zeros."""
    params = {"weight": jnp.ones(size, dtype)} if affine else {}
    if affine and bias:
        params["bias"] = jnp.zeros(size, dtype)
    return params


def layer_norm(x: jax.Array, normalized_shape: tuple, weight=None, bias=None, eps: float = 1e-5) -> jax.Array:
    """Normalises over the last `len(normalized_shape)` dimensions (biased variance)."""
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    # Half precisions are normalised in float32, as PyTorch computes them: in float16 the
    # backward pass of rsqrt(var + eps) overflows for inputs of small variance.
    wide = x.astype(jnp.promote_types(x.dtype, jnp.float32))
    mean = jnp.mean(wide, axis=axes, keepdims=True)
    var = jnp.mean(jnp.square(wide - mean), axis=axes, keepdims=True)
    y = ((wide - mean) * jax.lax.rsqrt(var + eps)).astype(x.dtype)
    if weight is not None:
        y = y * weight
    return y if bias is None else y + bias


def _as_shape(normalized_shape) -> tuple:
    return (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)


def _check_trailing(layer: Layer, x: jax.Array, shape: tuple) -> None:
    if tuple(x.shape[x.ndim - len(shape):]) != shape:
        raise ValueError(f"{layer!r} expects input whose last dimensions are {shape}, got input of shape {tuple(x.shape)}")


@dataclasses.dataclass(frozen=True, repr=False)
class LayerNorm(Layer):
    """`torch.nn.LayerNorm(normalized_shape, eps, elementwise_affine, bias)`."""

    normalized_shape: tuple | int
    eps: float = 1e-5
    elementwise_affine: bool = True
    bias: bool = True
    dtype: jnp.dtype = dataclasses.field(default=jnp.float32, repr=False)

    @property
    def shape(self) -> tuple:
        return _as_shape(self.normalized_shape)

    def init(self, key) -> Params:
        return _affine(self.shape, self.elementwise_affine, self.bias, self.dtype)

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        _check_trailing(self, x, self.shape)
        return layer_norm(x, self.shape, params.get("weight"), params.get("bias"), self.eps)

    def extra_repr(self) -> str:
        return (f"{self.shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.elementwise_affine and self.bias}")


def rms_norm(x: jax.Array, normalized_shape: tuple, weight=None, eps: float | None = None) -> jax.Array:
    """`torch.nn.functional.rms_norm`: x / sqrt(mean(x^2) + eps) over the last
    `len(normalized_shape)` dimensions, times `weight`; `eps` defaults to the dtype's epsilon.

        >>> import jax.numpy as jnp
        >>> rms_norm(jnp.array([[3.0, 4.0]]), (2,)).round(4).tolist()
        [[0.8485, 1.1314]]
    """
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    eps = jnp.finfo(x.dtype).eps if eps is None else eps
    # Half precisions are normalised in float32, as PyTorch computes them.
    wide = x.astype(jnp.promote_types(x.dtype, jnp.float32))
    y = (wide * jax.lax.rsqrt(jnp.mean(jnp.square(wide), axis=axes, keepdims=True) + eps)).astype(x.dtype)
    return y if weight is None else y * weight


@dataclasses.dataclass(frozen=True, repr=False)
class RMSNorm(Layer):
    """`torch.nn.RMSNorm(normalized_shape, eps=None, elementwise_affine=True)`: weight ones,
    no bias; `eps=None` means the input dtype's machine epsilon, as in PyTorch.

        >>> import jax.numpy as jnp
        >>> layer = RMSNorm(4)
        >>> layer
        RMSNorm((4,), eps=None, elementwise_affine=True)
        >>> layer.apply(layer.init(0), jnp.ones((2, 4))).tolist()
        [[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]
    """

    normalized_shape: tuple | int
    eps: float | None = None
    elementwise_affine: bool = True
    dtype: jnp.dtype = dataclasses.field(default=jnp.float32, repr=False)

    @property
    def shape(self) -> tuple:
        return _as_shape(self.normalized_shape)

    def init(self, key) -> Params:
        return _affine(self.shape, self.elementwise_affine, False, self.dtype)

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        _check_trailing(self, x, self.shape)
        check_params(self, params, {"weight": self.shape} if self.elementwise_affine else {})
        return rms_norm(x, self.shape, params.get("weight"), self.eps)

    def extra_repr(self) -> str:
        return f"{self.shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


def group_norm(x: jax.Array, num_groups: int, weight=None, bias=None, eps: float = 1e-5) -> jax.Array:
    """Normalises [N, C, ...] over groups of C/num_groups channels (and all other dims)."""
    n, channels = x.shape[0], x.shape[1]
    # Sizes spelled out: an empty batch leaves -1 undetermined.
    grouped = x.reshape((n, num_groups, channels // num_groups * math.prod(x.shape[2:])))
    mean = jnp.mean(grouped, axis=-1, keepdims=True)
    var = jnp.mean(jnp.square(grouped - mean), axis=-1, keepdims=True)
    y = ((grouped - mean) * jax.lax.rsqrt(var + eps)).reshape(x.shape)
    broadcast = (1, channels) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(broadcast)
    return y if bias is None else y + bias.reshape(broadcast)


def instance_norm(x: jax.Array, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5):
    """Normalises each (sample, channel) of [N, C, ...] over its other dims, as PyTorch computes
    it: a `batch_norm` of the input seen as [1, N * C, ...]. Returns `(y, running_mean,
    running_var)`, the statistics updated with the mean over the batch of each instance's.

        >>> import jax.numpy as jnp
        >>> instance_norm(jnp.array([[[1.0, 3.0]]]))[0].round(3).tolist()
        [[[-1.0, 1.0]]]
    """
    n, channels = x.shape[0], x.shape[1]
    repeat = lambda value: None if value is None else jnp.tile(value, n)  # noqa: E731
    y, mean, var, _ = batch_norm(x.reshape(1, n * channels, *x.shape[2:]), repeat(running_mean), repeat(running_var),
                                 repeat(weight), repeat(bias), use_input_stats, momentum, eps)
    if running_mean is not None and use_input_stats:
        running_mean, running_var = (s.reshape(n, channels).mean(axis=0) for s in (mean, var))
    return y.reshape(x.shape), running_mean, running_var


@dataclasses.dataclass(frozen=True, repr=False)
class GroupNorm(Layer):
    """`torch.nn.GroupNorm(num_groups, num_channels, eps, affine)`."""

    num_groups: int
    num_channels: int
    eps: float = 1e-5
    affine: bool = True
    bias: bool = True
    dtype: jnp.dtype = dataclasses.field(default=jnp.float32, repr=False)

    def __post_init__(self):
        if self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_channels ({self.num_channels}) must be divisible by num_groups ({self.num_groups})")

    def init(self, key) -> Params:
        return _affine(self.num_channels, self.affine, self.bias, self.dtype)

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"{self!r} expects {self.num_channels} channels (dim 1), got input of shape {tuple(x.shape)}")
        return group_norm(x, self.num_groups, params.get("weight"), params.get("bias"), self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, bias={self.affine and self.bias}"
