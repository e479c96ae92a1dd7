"""2-D pooling over (N, C, H, W) or unbatched (C, H, W) inputs, computing what PyTorch's
`max_pool2d`, `avg_pool2d` and `adaptive_avg_pool2d` compute (gradients included: a max
pool's gradient goes to the first maximum of each window)."""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from ._spatial import is_int, as_tuple, check_spatial_input, shape_text
from .layer import Layer, Params

Size2d = int | tuple[int, int]


def _window(kernel_size, stride, padding, who: str) -> tuple[tuple[int, int], ...]:
    """(kernel, stride, padding) as pairs; stride defaults to the kernel size as in PyTorch."""
    kernel = as_tuple(kernel_size, 2, "kernel_size", who, minimum=1)
    stride = kernel if stride is None else as_tuple(stride, 2, "stride", who, minimum=1)
    padding = as_tuple(padding, 2, "padding", who, minimum=0)
    # PyTorch's rule: more padding would make windows that hold only padding.
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(
            f"{who}: padding should be at most half of kernel_size, got padding={padding} and kernel_size={kernel}"
        )
    return kernel, stride, padding


def _pooled_input(x, kernel, stride, padding, who: str) -> jax.Array:
    """`x` as an array, after checking its rank and that at least one window fits in it."""
    x = check_spatial_input(x, 2, who)
    out = [(size + 2 * p - k) // s + 1 for size, k, s, p in zip(x.shape[-2:], kernel, stride, padding)]
    if any(o < 1 for o in out):
        raise ValueError(
            f"{who}: input of shape {x.shape} is too small for kernel_size={kernel} with padding={padding}: "
            f"the output would be {shape_text(out)}"
        )
    return x


def _reduce_windows(x, init, operation, kernel, stride, padding) -> jax.Array:
    """Reduces each window over the last two axes of `x` with `operation`, padding with `init`."""
    lead = (1,) * (x.ndim - 2)
    pads = ((0, 0),) * len(lead) + tuple((p, p) for p in padding)
    # A NumPy scalar of x's dtype is concrete even under jit, which lets JAX pick its
    # differentiable max and sum reductions (a traced init would leave it a generic one).
    return jax.lax.reduce_window(x, np.array(init, x.dtype), operation, lead + kernel, lead + stride, pads)


def _lowest(dtype) -> float | int:
    return -np.inf if jnp.issubdtype(dtype, jnp.inexact) else jnp.iinfo(dtype).min


def _max_pool2d(x, kernel_size, stride, padding, who: str) -> jax.Array:
    kernel, stride, padding = _window(kernel_size, stride, padding, who)
    x = _pooled_input(x, kernel, stride, padding, who)
    return _reduce_windows(x, _lowest(x.dtype), jax.lax.max, kernel, stride, padding)


def max_pool2d(x, kernel_size: Size2d, stride: Size2d | None = None, padding: Size2d = 0) -> jax.Array:
    """The maximum of each window; padding is -inf, so it is never the maximum.

        >>> import jax.numpy as jnp
        >>> max_pool2d(jnp.arange(16.0).reshape(1, 4, 4), 2).tolist()
        [[[5.0, 7.0], [13.0, 15.0]]]
    """
    return _max_pool2d(x, kernel_size, stride, padding, "max_pool2d")


def _window_counts(size: int, kernel: int, stride: int, padding: int) -> np.ndarray:
    """How many elements of the unpadded input each window along one axis covers."""
    starts = np.arange((size + 2 * padding - kernel) // stride + 1) * stride - padding
    return np.minimum(starts + kernel, size) - np.maximum(starts, 0)


def _avg_pool2d(x, kernel_size, stride, padding, count_include_pad: bool, who: str) -> jax.Array:
    kernel, stride, padding = _window(kernel_size, stride, padding, who)
    x = _pooled_input(x, kernel, stride, padding, who)
    sums = _reduce_windows(x, 0, jax.lax.add, kernel, stride, padding)
    if count_include_pad:
        return sums / math.prod(kernel)
    counts = [_window_counts(*args) for args in zip(x.shape[-2:], kernel, stride, padding)]
    return sums / jnp.asarray(np.outer(*counts), sums.dtype)


def avg_pool2d(
    x, kernel_size: Size2d, stride: Size2d | None = None, padding: Size2d = 0, count_include_pad: bool = True
) -> jax.Array:
    """The mean of each window; zero padding counts towards the mean unless `count_include_pad=False`.

        >>> import jax.numpy as jnp
        >>> avg_pool2d(jnp.ones((1, 2, 2)), 2, padding=1).tolist()
        [[[0.25, 0.25], [0.25, 0.25]]]
        >>> avg_pool2d(jnp.ones((1, 2, 2)), 2, padding=1, count_include_pad=False).tolist()
        [[[1.0, 1.0], [1.0, 1.0]]]
    """
    return _avg_pool2d(x, kernel_size, stride, padding, count_include_pad, "avg_pool2d")


def _adaptive_sizes(output_size, input_size, who: str) -> tuple[int, int]:
    """`output_size` as a pair; a None entry keeps the input's size along that axis."""
    pair = (output_size, output_size) if not isinstance(output_size, (tuple, list)) else tuple(output_size)
    if len(pair) != 2 or not all(wanted is None or is_int(wanted) and wanted >= 1 for wanted in pair):
        raise ValueError(f"{who}: output_size must be a positive int, None or a pair of them, got {output_size!r}")
    return tuple(size if wanted is None else int(wanted) for wanted, size in zip(pair, input_size))


def _bins(size: int, out: int) -> np.ndarray:
    """[out, size] 0/1 matrix of PyTorch's bins: floor(i*size/out) to ceil((i+1)*size/out)."""
    index = np.arange(out)
    starts, ends = (index * size) // out, -((-(index + 1) * size) // out)
    positions = np.arange(size)
    return ((positions >= starts[:, None]) & (positions < ends[:, None])).astype(np.float32)


def _adaptive_avg_pool2d(x, output_size, who: str) -> jax.Array:
    x = check_spatial_input(x, 2, who)
    sizes = _adaptive_sizes(output_size, x.shape[-2:], who)
    rows, columns = (_bins(size, out) for size, out in zip(x.shape[-2:], sizes))
    # Sums over possibly overlapping bins as one contraction; full precision keeps GPUs from
    # rounding the operands to TF32 in it.
    sums = jnp.einsum("...hw,ih,jw->...ij", x, rows.astype(x.dtype), columns.astype(x.dtype), precision="highest")
    counts = np.outer(rows.sum(1), columns.sum(1))
    return sums / jnp.asarray(counts, sums.dtype)


def adaptive_avg_pool2d(x, output_size: int | None | tuple[int | None, int | None]) -> jax.Array:
    """Means over `output_size` bins per axis, as PyTorch splits them (bins may overlap).

        >>> import jax.numpy as jnp
        >>> adaptive_avg_pool2d(jnp.arange(3.0).reshape(1, 1, 3), (1, 2)).tolist()
        [[[0.5, 1.5]]]
    """
    return _adaptive_avg_pool2d(x, output_size, "adaptive_avg_pool2d")


def _hashable(value):
    """Lists as tuples, so that layers stay hashable (and usable as static jit arguments)."""
    return tuple(value) if isinstance(value, list) else value


@dataclasses.dataclass(frozen=True, repr=False)
class _Pool2d(Layer):
    """A window pooling layer; the arguments are kept as given, as PyTorch keeps them."""

    kernel_size: Size2d
    stride: Size2d | None = None
    padding: Size2d = 0

    def __post_init__(self):
        for field in ("kernel_size", "stride", "padding"):
            object.__setattr__(self, field, _hashable(getattr(self, field)))
        if self.stride is None:
            object.__setattr__(self, "stride", self.kernel_size)
        _window(self.kernel_size, self.stride, self.padding, type(self).__name__)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


@dataclasses.dataclass(frozen=True, repr=False)
class MaxPool2d(_Pool2d):
    """`torch.nn.MaxPool2d(kernel_size, stride=None, padding=0)`; stride defaults to kernel_size.

        >>> import jax.numpy as jnp
        >>> layer = MaxPool2d(2)
        >>> layer
        MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
        >>> layer.apply({}, jnp.ones((8, 3, 32, 32))).shape
        (8, 3, 16, 16)
    """

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        return _max_pool2d(x, self.kernel_size, self.stride, self.padding, repr(self))

    def extra_repr(self) -> str:
        return super().extra_repr() + ", dilation=1, ceil_mode=False"


@dataclasses.dataclass(frozen=True, repr=False)
class AvgPool2d(_Pool2d):
    """`torch.nn.AvgPool2d(kernel_size, stride=None, padding=0, count_include_pad=True)`.

        >>> import jax.numpy as jnp
        >>> AvgPool2d(3, stride=2, padding=1).apply({}, jnp.ones((3, 8, 8))).shape
        (3, 4, 4)
    """

    count_include_pad: bool = True

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        return _avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.count_include_pad, repr(self))


@dataclasses.dataclass(frozen=True, repr=False)
class AdaptiveAvgPool2d(Layer):
    """`torch.nn.AdaptiveAvgPool2d(output_size)`: an int, or a pair whose None entries keep
    the input's size; `AdaptiveAvgPool2d(1)` is global average pooling.

        >>> import jax.numpy as jnp
        >>> layer = AdaptiveAvgPool2d((None, 3))
        >>> layer
        AdaptiveAvgPool2d(output_size=(None, 3))
        >>> layer.apply({}, jnp.ones((2, 4, 7, 10))).shape
        (2, 4, 7, 3)
    """

    output_size: int | None | tuple[int | None, int | None]

    def __post_init__(self):
        object.__setattr__(self, "output_size", _hashable(self.output_size))
        _adaptive_sizes(self.output_size, (1, 1), type(self).__name__)

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        return _adaptive_avg_pool2d(x, self.output_size, repr(self))
