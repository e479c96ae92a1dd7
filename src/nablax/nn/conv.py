"""Convolutions over (N, C, L), (N, C, H, W) and (N, C, D, H, W) inputs with PyTorch's layouts, arguments and
initialisation: weight `[out_channels, in_channels / groups, *kernel_size]`, bias `[out_channels]`."""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import jax
import jax.numpy as jnp

from .._keys import as_key
from .conv_filter_gradient import convolution
from ._spatial import as_tuple, check_positive_int, check_spatial_input, shape_text
from .layer import Layer, Params, check_params
from .linear import without_negative_zeros

Padding = int | tuple[int, ...] | str


def _padding_pairs(padding: Padding, kernel, stride, dilation, who: str) -> list[tuple[int, int]]:
    """(before, after) zero padding per spatial dimension, from an int, a tuple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return [(0, 0)] * len(kernel)
        if padding != "same":
            raise ValueError(f"{who}: invalid padding string {padding!r}, should be one of 'valid', 'same'")
        if any(s != 1 for s in stride):
            raise ValueError(f"{who}: padding='same' is not supported for strided convolutions (stride={stride})")
        # PyTorch puts the odd one out of an odd total padding after the input, not before.
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return [(total // 2, total - total // 2) for total in totals]
    pads = as_tuple(padding, len(kernel), "padding", who, minimum=0)
    return [(p, p) for p in pads]


def _check_weight_and_bias(weight, bias, spatial_dims: int, groups: int, who: str) -> None:
    if weight.ndim != spatial_dims + 2:
        raise ValueError(
            f"{who}: weight must be {spatial_dims + 2}-D [out_channels, in_channels/groups, *kernel_size], "
            f"got shape {weight.shape}"
        )
    if weight.shape[0] % groups:
        raise ValueError(f"{who}: weight's dim 0 ({weight.shape[0]} out_channels) must be divisible by groups={groups}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"{who}: bias must have shape ({weight.shape[0]},) to match weight, got {tuple(bias.shape)}")


def _check_input_fits(x, weight, groups: int, pads, dilation, who: str) -> None:
    """Raises when `x` has the wrong channel count or is smaller than the dilated kernel."""
    spatial_dims = weight.ndim - 2
    channel_dim = x.ndim - spatial_dims - 1
    expected = weight.shape[1] * groups
    if x.shape[channel_dim] != expected:
        raise ValueError(
            f"{who}: expected input with {expected} channels in dim {channel_dim} (weight of shape "
            f"{weight.shape}, groups={groups}), got {x.shape[channel_dim]} channels in input of shape {x.shape}"
        )
    padded = [size + before + after for size, (before, after) in zip(x.shape[-spatial_dims:], pads)]
    kernel = [d * (k - 1) + 1 for k, d in zip(weight.shape[2:], dilation)]
    if any(p < k for p, k in zip(padded, kernel)):
        raise ValueError(
            f"{who}: input of shape {x.shape} is too small for the kernel: padded input size per channel "
            f"{shape_text(padded)}, dilated kernel size {shape_text(kernel)}; the kernel can't be larger "
            f"than the padded input"
        )


def _conv(x, weight, bias, stride, padding, dilation, groups, *, spatial_dims: int, who: str) -> jax.Array:
    """The convolution behind conv1d, conv2d and the layers; `who` names the caller in errors."""
    x, weight = jnp.asarray(x), jnp.asarray(weight)
    dtype = jnp.result_type(x, weight)  # mixed precisions promote, as in `linear`
    x, weight = x.astype(dtype), weight.astype(dtype)
    check_spatial_input(x, spatial_dims, who)
    check_positive_int(groups, "groups", who)
    _check_weight_and_bias(weight, bias, spatial_dims, groups, who)
    stride = as_tuple(stride, spatial_dims, "stride", who, minimum=1)
    dilation = as_tuple(dilation, spatial_dims, "dilation", who, minimum=1)
    pads = _padding_pairs(padding, weight.shape[2:], stride, dilation, who)
    _check_input_fits(x, weight, groups, pads, dilation, who)
    unbatched = x.ndim == spatial_dims + 1
    y = convolution(x[None] if unbatched else x, weight, stride, pads, dilation, groups)
    y = without_negative_zeros(y) if bias is None else y + jnp.reshape(bias, (-1,) + (1,) * spatial_dims).astype(dtype)
    return y[0] if unbatched else y


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> jax.Array:
    """`torch.nn.functional.conv1d`: `x` is (N, C_in, L) or (C_in, L), `weight` is
    `[C_out, C_in / groups, k]`; `padding` is an int, a 1-tuple, 'valid' or 'same'.

        >>> import jax.numpy as jnp
        >>> conv1d(jnp.arange(5.0)[None], jnp.ones((1, 1, 2))).tolist()
        [[1.0, 3.0, 5.0, 7.0]]
    """
    return _conv(x, weight, bias, stride, padding, dilation, groups, spatial_dims=1, who="conv1d")


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> jax.Array:
    """`torch.nn.functional.conv2d`: `x` is (N, C_in, H, W) or (C_in, H, W), `weight` is
    `[C_out, C_in / groups, kH, kW]`; `padding` is an int, a pair, 'valid' or 'same' (which
    needs stride 1 and, for an odd total, pads one more after than before, as PyTorch does).

        >>> import jax.numpy as jnp
        >>> conv2d(jnp.ones((1, 3, 5, 5)), jnp.ones((4, 3, 3, 3)), padding="same").shape
        (1, 4, 5, 5)
    """
    return _conv(x, weight, bias, stride, padding, dilation, groups, spatial_dims=2, who="conv2d")


def conv3d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> jax.Array:
    """`torch.nn.functional.conv3d`: `x` is (N, C_in, D, H, W) or (C_in, D, H, W), `weight` is
    `[C_out, C_in / groups, kD, kH, kW]`.

        >>> import jax.numpy as jnp
        >>> conv3d(jnp.ones((1, 2, 4, 4, 4)), jnp.ones((3, 2, 3, 3, 3)), padding=1).shape
        (1, 3, 4, 4, 4)
    """
    return _conv(x, weight, bias, stride, padding, dilation, groups, spatial_dims=3, who="conv3d")


@dataclasses.dataclass(frozen=True, repr=False)
class _ConvNd(Layer):
    """A convolution layer over `spatial_dims` dimensions; see `Conv1d` and `Conv2d`."""

    spatial_dims: ClassVar[int]

    in_channels: int
    out_channels: int
    kernel_size: int | tuple[int, ...]
    stride: int | tuple[int, ...] = 1
    padding: Padding = 0
    dilation: int | tuple[int, ...] = 1
    groups: int = 1
    bias: bool = True
    dtype: jnp.dtype = dataclasses.field(default=jnp.float32, repr=False)

    def __post_init__(self):
        name, n = type(self).__name__, self.spatial_dims
        for field in ("in_channels", "out_channels", "groups"):
            check_positive_int(getattr(self, field), field, name)
        for field in ("in_channels", "out_channels"):
            if getattr(self, field) % self.groups:
                raise ValueError(f"{name}: {field}={getattr(self, field)} must be divisible by groups={self.groups}")
        # Stored as tuples, as PyTorch stores them, so equal layers compare and print equal.
        for field in ("kernel_size", "stride", "dilation"):
            object.__setattr__(self, field, as_tuple(getattr(self, field), n, field, name, minimum=1))
        _padding_pairs(self.padding, self.kernel_size, self.stride, self.dilation, name)
        if not isinstance(self.padding, str):
            object.__setattr__(self, "padding", as_tuple(self.padding, n, "padding", name))

    def _weight_shape(self) -> tuple[int, ...]:
        return (self.out_channels, self.in_channels // self.groups, *self.kernel_size)

    def init(self, key) -> Params:
        weight_key, bias_key = jax.random.split(as_key(key))
        # PyTorch's kaiming_uniform_(a=sqrt(5)) for the weight comes to the same bound as the bias's.
        fan_in = self.in_channels // self.groups * math.prod(self.kernel_size)
        bound = 1.0 / math.sqrt(fan_in)
        params = {"weight": jax.random.uniform(weight_key, self._weight_shape(), self.dtype, -bound, bound)}
        if self.bias:
            params["bias"] = jax.random.uniform(bias_key, (self.out_channels,), self.dtype, -bound, bound)
        return params

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        expected = {"weight": self._weight_shape()}
        if self.bias:
            expected["bias"] = (self.out_channels,)
        check_params(self, params, expected)
        return _conv(
            x, params["weight"], params.get("bias"), self.stride, self.padding, self.dilation, self.groups,
            spatial_dims=self.spatial_dims, who=repr(self),
        )

    def extra_repr(self) -> str:
        # PyTorch's format: defaults left out, a padding string printed without quotes.
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self.spatial_dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.spatial_dims:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text if self.bias else text + ", bias=False"


@dataclasses.dataclass(frozen=True, repr=False)
class Conv1d(_ConvNd):
    """`torch.nn.Conv1d` over (N, C, L) or (C, L): weight `[out, in / groups, k]` and bias `[out]`,
    both from U(-b, b) with b = 1/sqrt(in_channels / groups * k), as PyTorch draws them.

        >>> import jax.numpy as jnp
        >>> layer = Conv1d(2, 4, kernel_size=3, padding="same")
        >>> layer
        Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=same)
        >>> layer.apply(layer.init(0), jnp.ones((8, 2, 10))).shape
        (8, 4, 10)
    """

    spatial_dims: ClassVar[int] = 1


@dataclasses.dataclass(frozen=True, repr=False)
class Conv2d(_ConvNd):
    """`torch.nn.Conv2d` over (N, C, H, W) or (C, H, W): weight `[out, in / groups, kH, kW]` and
    bias `[out]`, both from U(-b, b) with b = 1/sqrt(in_channels / groups * kH * kW).

        >>> import jax.numpy as jnp
        >>> layer = Conv2d(3, 8, kernel_size=3, stride=2, padding=1)
        >>> {name: p.shape for name, p in layer.init(0).items()}
        {'weight': (8, 3, 3, 3), 'bias': (8,)}
        >>> layer.apply(layer.init(0), jnp.ones((1, 3, 32, 32))).shape
        (1, 8, 16, 16)
    """

    spatial_dims: ClassVar[int] = 2


@dataclasses.dataclass(frozen=True, repr=False)
class Conv3d(_ConvNd):
    """`torch.nn.Conv3d` over (N, C, D, H, W) or (C, D, H, W): weight `[out, in / groups, kD, kH, kW]`
    and bias `[out]`, both from U(-b, b) with b = 1/sqrt(in_channels / groups * kD * kH * kW).

        >>> import jax.numpy as jnp
        >>> layer = Conv3d(2, 4, kernel_size=3)
        >>> layer.apply(layer.init(0), jnp.ones((2, 5, 5, 5))).shape
        (4, 3, 3, 3)
    """

    spatial_dims: ClassVar[int] = 3
