"""Transposed convolutions over (N, C, *spatial) inputs with PyTorch's layouts: weight
`[in_channels, out_channels / groups, *kernel_size]`, bias `[out_channels]`. A transposed
convolution is the gradient of a convolution with respect to its input, computed here as a
convolution of the input spread out by `stride` (`lhs_dilation`) with the flipped kernel."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._spatial import as_tuple, check_spatial_input
from .linear import without_negative_zeros


def _forward_kernel(weight, groups: int) -> jax.Array:
    """`[C_in, C_out / g, *k]` as the kernel of the equivalent convolution, `[C_out, C_in / g, *k]`,
    flipped along every spatial axis."""
    in_channels, out_per_group, *kernel = weight.shape
    grouped = weight.reshape(groups, in_channels // groups, out_per_group, *kernel)
    grouped = jnp.swapaxes(grouped, 1, 2).reshape(groups * out_per_group, in_channels // groups, *kernel)
    return jnp.flip(grouped, axis=tuple(range(2, grouped.ndim)))


def conv_transpose(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups: int = 1, dilation=1, *,
                   spatial_dims: int) -> jax.Array:
    """`torch.nn.functional.conv_transpose{1,2,3}d` (`spatial_dims` of them): each output size is
    (in - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1.

        >>> import jax.numpy as jnp
        >>> conv_transpose(jnp.ones((1, 1, 2)), jnp.ones((1, 1, 2)), stride=2, spatial_dims=1).tolist()
        [[[1.0, 1.0, 1.0, 1.0]]]
    """
    who = f"conv_transpose{spatial_dims}d"
    x = check_spatial_input(x, spatial_dims, who)
    weight = jnp.asarray(weight)
    stride, padding, output_padding, dilation = (
        as_tuple(value, spatial_dims, name, who) for value, name in
        ((stride, "stride"), (padding, "padding"), (output_padding, "output_padding"), (dilation, "dilation")))
    kernel = weight.shape[2:]
    pads = [(d * (k - 1) - p, d * (k - 1) - p + extra) for k, p, extra, d in zip(kernel, padding, output_padding, dilation)]
    unbatched = x.ndim == spatial_dims + 1
    y = jax.lax.conv_general_dilated(x[None] if unbatched else x, _forward_kernel(weight, int(groups)),
                                     (1,) * spatial_dims, pads, lhs_dilation=stride, rhs_dilation=dilation,
                                     feature_group_count=int(groups))
    y = without_negative_zeros(y) if bias is None else y + jnp.reshape(bias, (-1,) + (1,) * spatial_dims)
    return y[0] if unbatched else y


def conv_transpose1d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1) -> jax.Array:
    """`torch.nn.functional.conv_transpose1d` over (N, C_in, L) or (C_in, L)."""
    return conv_transpose(x, weight, bias, stride, padding, output_padding, groups, dilation, spatial_dims=1)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1) -> jax.Array:
    """`torch.nn.functional.conv_transpose2d` over (N, C_in, H, W) or (C_in, H, W).

        >>> import jax.numpy as jnp
        >>> conv_transpose2d(jnp.ones((1, 3, 4, 4)), jnp.ones((3, 8, 3, 3)), stride=2, padding=1).shape
        (1, 8, 7, 7)
    """
    return conv_transpose(x, weight, bias, stride, padding, output_padding, groups, dilation, spatial_dims=2)


def conv_transpose3d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1) -> jax.Array:
    """`torch.nn.functional.conv_transpose3d` over (N, C_in, D, H, W) or (C_in, D, H, W)."""
    return conv_transpose(x, weight, bias, stride, padding, output_padding, groups, dilation, spatial_dims=3)
