"""Max unpooling: the inverse of a max pool with `return_indices=True` over (N, C, *spatial)
inputs, as PyTorch's `max_unpool1d`/`2d`/`3d` compute it, gradients included."""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp

from ._spatial import as_tuple, check_spatial_input
from .layer import Layer, Params
from .pool import Size, _as_given

def max_unpool(x, indices, kernel_size: Size, stride: Size | None, padding: Size, output_size, dims: int) -> jax.Array:
    """The inverse of a max pool over the last `dims` axes with `return_indices=True`: each
    value of `x` at its flat position `indices` in a volume of zeros of `output_size`, by
    default (in - 1) * stride - 2 * padding + kernel_size along each axis. An index outside
    the volume is dropped."""
    who = f"max_unpool{dims}d"
    x, indices = check_spatial_input(x, dims, who), jnp.asarray(indices)
    if indices.shape != x.shape or not jnp.issubdtype(indices.dtype, jnp.integer):
        raise ValueError(f"{who}: indices must be integers of the input's shape {x.shape}, got "
                         f"{indices.dtype} of shape {indices.shape}")
    kernel = as_tuple(kernel_size, dims, "kernel_size", who, minimum=1)
    stride = kernel if stride is None else as_tuple(stride, dims, "stride", who, minimum=1)
    padding = as_tuple(padding, dims, "padding", who)
    if output_size is None:
        output_size = tuple((size - 1) * s - 2 * p + k for size, k, s, p in zip(x.shape[-dims:], kernel, stride, padding))
    sizes = as_tuple(tuple(output_size)[-dims:], dims, "output_size", who)
    rows = math.prod(x.shape[:-dims])
    volumes = _place(x.reshape(rows, -1), indices.reshape(rows, -1), math.prod(sizes))
    return volumes.reshape(*x.shape[:-dims], *sizes)


def max_unpool1d(x, indices, kernel_size: Size, stride: Size | None = None, padding: Size = 0,
                 output_size=None) -> jax.Array:
    """The inverse of `max_pool1d(..., return_indices=True)` over (N, C, L) or (C, L)."""
    return max_unpool(x, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(x, indices, kernel_size: Size, stride: Size | None = None, padding: Size = 0,
                 output_size: tuple[int, int] | None = None) -> jax.Array:
    """The inverse of `max_pool2d(..., return_indices=True)`: each value of `x` at its position
    `indices` (`h * W + w`) in a plane of zeros.

        >>> import jax.numpy as jnp
        >>> from nablax.nn import max_pool2d
        >>> values, indices = max_pool2d(jnp.arange(16.0).reshape(1, 4, 4), 2, return_indices=True)
        >>> max_unpool2d(values, indices, 2)[0, :2].tolist()
        [[0.0, 0.0, 0.0, 0.0], [0.0, 5.0, 0.0, 7.0]]
    """
    return max_unpool(x, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool3d(x, indices, kernel_size: Size, stride: Size | None = None, padding: Size = 0,
                 output_size=None) -> jax.Array:
    """The inverse of `max_pool3d(..., return_indices=True)` over (N, C, D, H, W) or (C, D, H, W)."""
    return max_unpool(x, indices, kernel_size, stride, padding, output_size, 3)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def _place(values, positions, size: int) -> jax.Array:
    """Rows of zeros of length `size` with `values` at `positions` (one row each); a
    position outside the row is dropped."""
    rows = jnp.arange(values.shape[0])[:, None]
    return jnp.zeros((values.shape[0], size), values.dtype).at[rows, positions].set(values, mode="drop")


def _place_forward(values, positions, size: int):
    return _place(values, positions, size), positions


def _place_backward(size: int, positions, cotangent):
    # Every value gets the cotangent at its position, a repeated position too, as in PyTorch
    # (JAX's own rule for a scatter gives a repeated position's cotangent to one value only).
    return jnp.take_along_axis(cotangent, positions, axis=1, mode="fill", fill_value=0), None


_place.defvjp(_place_forward, _place_backward)


@dataclasses.dataclass(frozen=True, repr=False)
class MaxUnpool2d(Layer):
    """`torch.nn.MaxUnpool2d(kernel_size, stride=None, padding=0)`; `apply(params, (x, indices))`
    takes what `MaxPool2d(..., return_indices=True)` returned. Its sizes are kept as pairs.

        >>> MaxUnpool2d(2)
        MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))
    """

    kernel_size: Size
    stride: Size | None = None
    padding: Size = 0

    def __post_init__(self):
        _as_given(self, "kernel_size", "stride", "padding", tuples_of=2)  # PyTorch's `_pair`

    def apply(self, params: Params, x, *, key=None, train: bool = False) -> jax.Array:
        values, indices = x
        return max_unpool2d(values, indices, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
