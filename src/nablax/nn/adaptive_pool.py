"""Adaptive pooling: a fixed output size whatever the input's, over (N, C, L) / (C, L) or
(N, C, H, W) / (C, H, W) inputs, computing what PyTorch's `adaptive_avg_pool1d`/`2d` and
`adaptive_max_pool1d`/`2d` compute. PyTorch splits an axis of size n into `out` bins, bin i
running from floor(i * n / out) to ceil((i + 1) * n / out); bins may overlap."""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._spatial import check_spatial_input, is_int
from .layer import Layer, Params
from .pool import hashable, max_over_windows

OutputSize = int | None | tuple[int | None, ...]


def _output_sizes(output_size, input_size, who: str) -> tuple[int, ...]:
    """`output_size` as one size per axis; a None entry keeps the input's size along that axis."""
    dims = len(input_size)
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * dims
    if len(sizes) != dims or not all(wanted is None or is_int(wanted) and wanted >= 1 for wanted in sizes):
        kind = "a positive int or None" if dims == 1 else "a positive int, None or a pair of them"
        raise ValueError(f"{who}: output_size must be {kind}, got {output_size!r}")
    return tuple(size if wanted is None else int(wanted) for wanted, size in zip(sizes, input_size))


def _bin_bounds(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    index = np.arange(out)
    return (index * size) // out, -((-(index + 1) * size) // out)


def _bins(size: int, out: int) -> np.ndarray:
    """[out, size] 0/1 matrix: which positions each bin holds."""
    starts, ends = _bin_bounds(size, out)
    positions = np.arange(size)
    return ((positions >= starts[:, None]) & (positions < ends[:, None])).astype(np.float32)


def _bin_positions(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """The positions each bin reads, `[out, widest bin]`, and which are in the bin."""
    starts, ends = _bin_bounds(size, out)
    position = starts[:, None] + np.arange(int((ends - starts).max()))[None, :]
    return np.minimum(position, size - 1), position < ends[:, None]


def _prepared(x, output_size, dims: int, who: str):
    x = check_spatial_input(x, dims, who)
    return x, _output_sizes(output_size, x.shape[-dims:], who)


def adaptive_avg_pool(x, output_size, dims: int, who: str) -> jax.Array:
    """Means over the bins of the last `dims` axes."""
    x, sizes = _prepared(x, output_size, dims, who)
    matrices = [_bins(size, out) for size, out in zip(x.shape[-dims:], sizes)]
    # Sums over possibly overlapping bins as one contraction; full precision keeps GPUs from
    # rounding the operands to TF32 in it.
    inputs, outputs = "dhw"[-dims:], "ijk"[-dims:]
    spec = f"...{inputs}," + ",".join(o + i for o, i in zip(outputs, inputs)) + f"->...{outputs}"
    sums = jnp.einsum(spec, x, *(m.astype(x.dtype) for m in matrices), precision="highest")
    counts = functools.reduce(np.multiply.outer, [m.sum(1) for m in matrices])
    return sums / jnp.asarray(counts, sums.dtype)


def adaptive_avg_pool1d(x, output_size: int | None) -> jax.Array:
    """Means over `output_size` bins of (N, C, L) or (C, L).

        >>> import jax.numpy as jnp
        >>> adaptive_avg_pool1d(jnp.arange(5.0).reshape(1, 5), 2).tolist()
        [[1.0, 3.0]]
    """
    return adaptive_avg_pool(x, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(x, output_size: OutputSize) -> jax.Array:
    """Means over `output_size` bins per axis, as PyTorch splits them (bins may overlap).

        >>> import jax.numpy as jnp
        >>> adaptive_avg_pool2d(jnp.arange(3.0).reshape(1, 1, 3), (1, 2)).tolist()
        [[[0.5, 1.5]]]
    """
    return adaptive_avg_pool(x, output_size, 2, "adaptive_avg_pool2d")


def adaptive_max_pool(x, output_size, return_indices: bool, dims: int, who: str):
    """The first maximum of each bin of the last `dims` axes (and its flat position)."""
    x, sizes = _prepared(x, output_size, dims, who)
    values, indices = max_over_windows(x, [_bin_positions(size, out) for size, out in zip(x.shape[-dims:], sizes)])
    return (values, indices) if return_indices else values


def adaptive_max_pool1d(x, output_size: int | None, return_indices: bool = False):
    """The maximum of each of `output_size` bins of (N, C, L) or (C, L), and with
    `return_indices` its position along L."""
    return adaptive_max_pool(x, output_size, return_indices, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d(x, output_size: OutputSize, return_indices: bool = False):
    """The maximum of each bin (the gradient goes to its first maximum), and with
    `return_indices` its position `h * W + w`.

        >>> import jax.numpy as jnp
        >>> values, indices = adaptive_max_pool2d(jnp.arange(9.0).reshape(1, 3, 3), 2, return_indices=True)
        >>> values.tolist(), indices.tolist()
        ([[[4.0, 5.0], [7.0, 8.0]]], [[[4, 5], [7, 8]]])
    """
    return adaptive_max_pool(x, output_size, return_indices, 2, "adaptive_max_pool2d")


def adaptive_avg_pool3d(x, output_size: OutputSize) -> jax.Array:
    """Means over `output_size` bins per axis of (N, C, D, H, W) or (C, D, H, W).

        >>> import jax.numpy as jnp
        >>> adaptive_avg_pool3d(jnp.arange(8.0).reshape(1, 2, 2, 2), 1).tolist()
        [[[[3.5]]]]
    """
    return adaptive_avg_pool(x, output_size, 3, "adaptive_avg_pool3d")


def adaptive_max_pool3d(x, output_size: OutputSize, return_indices: bool = False):
    """The maximum of each bin of (N, C, D, H, W) or (C, D, H, W), and with `return_indices`
    its position `(d * H + h) * W + w`."""
    return adaptive_max_pool(x, output_size, return_indices, 3, "adaptive_max_pool3d")


@dataclasses.dataclass(frozen=True, repr=False)
class _AdaptivePool(Layer):
    output_size: OutputSize
    _dims = 0

    def __post_init__(self):
        object.__setattr__(self, "output_size", hashable(self.output_size))
        _output_sizes(self.output_size, (1,) * self._dims, type(self).__name__)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


@dataclasses.dataclass(frozen=True, repr=False)
class AdaptiveAvgPool1d(_AdaptivePool):
    """`torch.nn.AdaptiveAvgPool1d(output_size)`."""

    _dims = 1

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        return adaptive_avg_pool(x, self.output_size, 1, repr(self))


@dataclasses.dataclass(frozen=True, repr=False)
class AdaptiveAvgPool2d(_AdaptivePool):
    """`torch.nn.AdaptiveAvgPool2d(output_size)`: an int, or a pair whose None entries keep
    the input's size; `AdaptiveAvgPool2d(1)` is global average pooling.

        >>> import jax.numpy as jnp
        >>> layer = AdaptiveAvgPool2d((None, 3))
        >>> layer
        AdaptiveAvgPool2d(output_size=(None, 3))
        >>> layer.apply({}, jnp.ones((2, 4, 7, 10))).shape
        (2, 4, 7, 3)
    """

    _dims = 2

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        return adaptive_avg_pool(x, self.output_size, 2, repr(self))


@dataclasses.dataclass(frozen=True, repr=False)
class AdaptiveMaxPool1d(_AdaptivePool):
    """`torch.nn.AdaptiveMaxPool1d(output_size, return_indices=False)`."""

    return_indices: bool = False
    _dims = 1

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False):
        return adaptive_max_pool(x, self.output_size, self.return_indices, 1, repr(self))


@dataclasses.dataclass(frozen=True, repr=False)
class AdaptiveMaxPool2d(_AdaptivePool):
    """`torch.nn.AdaptiveMaxPool2d(output_size, return_indices=False)`; `AdaptiveMaxPool2d(1)`
    is global max pooling."""

    return_indices: bool = False
    _dims = 2

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False):
        return adaptive_max_pool(x, self.output_size, self.return_indices, 2, repr(self))
