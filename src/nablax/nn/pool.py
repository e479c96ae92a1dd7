"""Window pooling over (N, C, L) / (C, L) or (N, C, H, W) / (C, H, W) inputs, computing what
PyTorch's `max_pool1d`/`max_pool2d` (with `dilation`, `ceil_mode` and `return_indices`) and
`avg_pool1d`/`avg_pool2d` (with `ceil_mode`, `count_include_pad` and `divisor_override`)
compute, gradients included: a max pool's gradient goes to the first maximum of each window.

Two ways compute a max pool: `jax.lax.reduce_window`, the fast one, whose derivative JAX
has for undilated windows only; and `max_over_windows`, which gathers every window and
takes its first maximum, giving the maximum's position too (`return_indices`) and any
dilation. Adaptive pooling (`adaptive_pool.py`) gathers its bins the same way.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from ._spatial import as_tuple, check_spatial_input, shape_text
from .layer import Layer, Params

Size = int | tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class Window:
    """Pooling windows along the spatial axes: per axis a kernel size, stride, padding and
    dilation (tuples of ints), and whether a last, partial window counts (`ceil_mode`)."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    ceil_mode: bool = False

    @classmethod
    def of(cls, dims: int, kernel_size, stride, padding, dilation, ceil_mode: bool, who: str) -> Window:
        """Checked windows; stride defaults to the kernel size, as in PyTorch."""
        kernel = as_tuple(kernel_size, dims, "kernel_size", who, minimum=1)
        stride = kernel if stride is None else as_tuple(stride, dims, "stride", who, minimum=1)
        padding = as_tuple(padding, dims, "padding", who, minimum=0)
        dilation = as_tuple(dilation, dims, "dilation", who, minimum=1)
        # PyTorch's rule (on the undilated kernel): more padding could make windows that hold only padding.
        if any(p > k // 2 for p, k in zip(padding, kernel)):
            raise ValueError(
                f"{who}: padding should be at most half of kernel_size, got padding={padding} and kernel_size={kernel}"
            )
        return cls(kernel, stride, padding, dilation, bool(ceil_mode))

    @property
    def extent(self) -> tuple[int, ...]:
        """How many input positions a window spans along each axis: (kernel - 1) * dilation + 1."""
        return tuple((k - 1) * d + 1 for k, d in zip(self.kernel, self.dilation))

    def output_size(self, sizes) -> tuple[int, ...]:
        """PyTorch's output size; in ceil mode a last window must start inside the input or its left padding."""
        out = []
        for size, extent, s, p in zip(sizes, self.extent, self.stride, self.padding):
            rounding = s - 1 if self.ceil_mode else 0
            n = (size + 2 * p - extent + rounding) // s + 1
            if self.ceil_mode and (n - 1) * s >= size + p:
                n -= 1
            out.append(n)
        return tuple(out)

    def paddings(self, sizes) -> tuple[tuple[int, int], ...]:
        """(left, right) padding per axis: `padding`, and on the right whatever a ceil-mode
        window reaches beyond it."""
        return tuple(
            (p, max(p, (n - 1) * s + extent - size - p))
            for size, n, extent, s, p in zip(sizes, self.output_size(sizes), self.extent, self.stride, self.padding)
        )

    def positions(self, sizes) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per axis, the input positions each window reads, `[out, kernel]`, and which of them
        are inside the input (the others are padding; their positions are clipped)."""
        tables = []
        for size, n, k, s, p, d in zip(sizes, self.output_size(sizes), self.kernel, self.stride, self.padding,
                                       self.dilation):
            position = np.arange(n)[:, None] * s - p + np.arange(k)[None, :] * d
            tables.append((np.clip(position, 0, size - 1), (position >= 0) & (position < size)))
        return tables


def pooled_input(x, window: Window, who: str) -> jax.Array:
    """`x` as an array, after checking its rank and that at least one window fits in it."""
    dims = len(window.kernel)
    x = check_spatial_input(x, dims, who)
    out = window.output_size(x.shape[-dims:])
    if any(o < 1 for o in out):
        raise ValueError(
            f"{who}: input of shape {x.shape} is too small for kernel_size={window.kernel} with "
            f"padding={window.padding} and dilation={window.dilation}: the output would be {shape_text(out)}"
        )
    return x


def lowest(dtype) -> float | int:
    """The value no element is below: what max pooling pads with."""
    return -np.inf if jnp.issubdtype(dtype, jnp.inexact) else jnp.iinfo(dtype).min


def _reduce_windows(x, init, operation, window: Window) -> jax.Array:
    """Reduces each (undilated) window over the spatial axes of `x` with `operation`,
    padding with `init`."""
    dims = len(window.kernel)
    lead = (1,) * (x.ndim - dims)
    pads = ((0, 0),) * len(lead) + window.paddings(x.shape[-dims:])
    # A NumPy scalar of x's dtype is concrete even under jit, which lets JAX pick its
    # differentiable max and sum reductions (a traced init would leave it a generic one).
    return jax.lax.reduce_window(x, np.array(init, x.dtype), operation, lead + window.kernel, lead + window.stride, pads)


def index_dtype():
    """PyTorch's int64 for indices where JAX's 64-bit mode is on, else int32."""
    return jax.dtypes.canonicalize_dtype(np.int64)


def max_over_windows(x, tables) -> tuple[jax.Array, jax.Array]:
    """The first maximum of each window and its flat position in the spatial plane (PyTorch's
    indices). `tables` holds, per spatial axis, the positions `[out, k]` a window reads and
    which are valid; invalid ones never win. Every window is gathered, so the gradient of the
    maximum (a `take_along_axis`) goes to that one position, as in PyTorch."""
    dims = len(tables)
    sizes = x.shape[-dims:]
    # Index grids of shape (out_1, k_1, out_2, k_2, ...), one per spatial axis.
    grids, valid, flat = [], True, 0
    for axis, (position, ok) in enumerate(tables):
        shape = [1] * (2 * dims)
        shape[2 * axis : 2 * axis + 2] = position.shape
        grids.append(position.reshape(shape))
        valid = valid & ok.reshape(shape)
        flat = flat * sizes[axis] + position.reshape(shape)
    windows = jnp.where(valid, x[(Ellipsis, *grids)], np.array(lowest(x.dtype), x.dtype))
    # (..., out_1, k_1, out_2, k_2) -> (..., out_1, out_2, k_1 * k_2): each window's elements in row-major order.
    lead = x.ndim - dims
    order = [*range(lead), *(lead + 2 * a for a in range(dims)), *(lead + 2 * a + 1 for a in range(dims))]
    outputs = tuple(position.shape[0] for position, _ in tables)
    windows = windows.transpose(order).reshape(*x.shape[:lead], *outputs, -1)
    flat = np.broadcast_to(flat, valid.shape).transpose([2 * a for a in range(dims)] + [2 * a + 1 for a in range(dims)])
    choice = jnp.argmax(windows, axis=-1, keepdims=True)
    values = jnp.take_along_axis(windows, choice, axis=-1)[..., 0]
    flat = jnp.broadcast_to(jnp.asarray(flat.reshape(*outputs, -1), index_dtype()), windows.shape)
    indices = jnp.take_along_axis(flat, choice, axis=-1)[..., 0]
    return values, indices


def max_pool(x, window: Window, return_indices: bool, who: str):
    """Max pooling of `x` over `window` (checked), and the maxima's positions with `return_indices`."""
    x = pooled_input(x, window, who)
    dims = len(window.kernel)
    if return_indices or any(d != 1 for d in window.dilation):
        values, indices = max_over_windows(x, window.positions(x.shape[-dims:]))
        return (values, indices) if return_indices else values
    return _reduce_windows(x, lowest(x.dtype), jax.lax.max, window)


def max_pool1d(x, kernel_size: Size, stride: Size | None = None, padding: Size = 0, dilation: Size = 1,
               ceil_mode: bool = False, return_indices: bool = False):
    """The maximum of each window over (N, C, L) or (C, L); with `return_indices`, also the
    position of each maximum along L (what `max_unpool1d` takes in PyTorch).

        >>> import jax.numpy as jnp
        >>> values, indices = max_pool1d(jnp.array([[1.0, 3.0, 2.0, 5.0, 4.0]]), 2, ceil_mode=True, return_indices=True)
        >>> values.tolist(), indices.tolist()
        ([[3.0, 5.0, 4.0]], [[1, 3, 4]])
    """
    window = Window.of(1, kernel_size, stride, padding, dilation, ceil_mode, "max_pool1d")
    return max_pool(x, window, return_indices, "max_pool1d")


def max_pool2d(x, kernel_size: Size, stride: Size | None = None, padding: Size = 0, dilation: Size = 1,
               ceil_mode: bool = False, return_indices: bool = False):
    """The maximum of each window over (N, C, H, W) or (C, H, W); padding is -inf, so it is
    never the maximum. With `return_indices`, also each maximum's position `h * W + w`.

        >>> import jax.numpy as jnp
        >>> max_pool2d(jnp.arange(16.0).reshape(1, 4, 4), 2).tolist()
        [[[5.0, 7.0], [13.0, 15.0]]]
        >>> max_pool2d(jnp.arange(16.0).reshape(1, 4, 4), 2, dilation=2, return_indices=True)[1].tolist()
        [[[10]]]
    """
    window = Window.of(2, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    return max_pool(x, window, return_indices, "max_pool2d")


def max_pool3d(x, kernel_size: Size, stride: Size | None = None, padding: Size = 0, dilation: Size = 1,
               ceil_mode: bool = False, return_indices: bool = False):
    """The maximum of each window over (N, C, D, H, W) or (C, D, H, W); with `return_indices`,
    also each maximum's position `(d * H + h) * W + w`.

        >>> import jax.numpy as jnp
        >>> max_pool3d(jnp.arange(8.0).reshape(1, 2, 2, 2), 2).tolist()
        [[[[7.0]]]]
    """
    window = Window.of(3, kernel_size, stride, padding, dilation, ceil_mode, "max_pool3d")
    return max_pool(x, window, return_indices, "max_pool3d")


def _window_counts(size: int, out: int, kernel: int, stride: int, padding: int, include_pad: bool) -> np.ndarray:
    """What PyTorch divides each window's sum by along one axis: the elements it covers,
    padding included or not (the part beyond the padding that ceil mode adds never counts)."""
    starts = np.arange(out) * stride - padding
    if include_pad:
        return np.minimum(starts + kernel, size + padding) - starts
    return np.minimum(starts + kernel, size) - np.maximum(starts, 0)


def avg_pool(x, window: Window, count_include_pad: bool, divisor_override: int | None, who: str) -> jax.Array:
    """Average pooling of `x` over `window` (checked), in `x`'s dtype: integers are averaged
    with truncating division, as in PyTorch."""
    x = pooled_input(x, window, who)
    dims = len(window.kernel)
    sums = _reduce_windows(x, 0, jax.lax.add, window)
    if divisor_override is not None:
        divisor = np.array(divisor_override)
    else:
        sizes = x.shape[-dims:]
        counts = [_window_counts(size, out, k, s, p, count_include_pad) for size, out, k, s, p in
                  zip(sizes, window.output_size(sizes), window.kernel, window.stride, window.padding)]
        divisor = math.prod(np.ix_(*counts))
    divisor = jnp.asarray(divisor, x.dtype)
    return jax.lax.div(sums, jnp.broadcast_to(divisor, sums.shape)) if not jnp.issubdtype(x.dtype, jnp.inexact) else (
        sums / divisor)


def _check_divisor(divisor_override, who: str) -> None:
    if divisor_override is not None and (not isinstance(divisor_override, (int, np.integer)) or divisor_override == 0):
        raise ValueError(f"{who}: divisor_override must be a nonzero int or None, got {divisor_override!r}")


def avg_pool1d(x, kernel_size: Size, stride: Size | None = None, padding: Size = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> jax.Array:
    """The mean of each window over (N, C, L) or (C, L); zero padding counts towards the mean
    unless `count_include_pad=False`."""
    window = Window.of(1, kernel_size, stride, padding, 1, ceil_mode, "avg_pool1d")
    return avg_pool(x, window, count_include_pad, None, "avg_pool1d")


def avg_pool2d(x, kernel_size: Size, stride: Size | None = None, padding: Size = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> jax.Array:
    """The mean of each window over (N, C, H, W) or (C, H, W); zero padding counts towards the
    mean unless `count_include_pad=False`, and `divisor_override` replaces the window size.

        >>> import jax.numpy as jnp
        >>> avg_pool2d(jnp.ones((1, 2, 2)), 2, padding=1).tolist()
        [[[0.25, 0.25], [0.25, 0.25]]]
        >>> avg_pool2d(jnp.ones((1, 2, 2)), 2, padding=1, count_include_pad=False).tolist()
        [[[1.0, 1.0], [1.0, 1.0]]]
        >>> avg_pool2d(jnp.ones((1, 3, 3)), 2, ceil_mode=True).tolist()
        [[[1.0, 1.0], [1.0, 1.0]]]
    """
    _check_divisor(divisor_override, "avg_pool2d")
    window = Window.of(2, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d")
    return avg_pool(x, window, count_include_pad, divisor_override, "avg_pool2d")


def avg_pool3d(x, kernel_size: Size, stride: Size | None = None, padding: Size = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> jax.Array:
    """The mean of each window over (N, C, D, H, W) or (C, D, H, W), with `avg_pool2d`'s options.

        >>> import jax.numpy as jnp
        >>> avg_pool3d(jnp.arange(8.0).reshape(1, 2, 2, 2), 2).tolist()
        [[[[3.5]]]]
    """
    _check_divisor(divisor_override, "avg_pool3d")
    window = Window.of(3, kernel_size, stride, padding, 1, ceil_mode, "avg_pool3d")
    return avg_pool(x, window, count_include_pad, divisor_override, "avg_pool3d")


def hashable(value):
    """Lists as tuples, so that layers stay hashable (and usable as static jit arguments)."""
    return tuple(value) if isinstance(value, list) else value


def _as_given(layer, *fields: str, tuples_of: int | None = None) -> None:
    """Keeps the layer's arguments as given (lists as tuples), as PyTorch keeps them, or as
    tuples of `tuples_of` ints where PyTorch makes them so; stride defaults to kernel_size."""
    for field in fields:
        value = hashable(getattr(layer, field))
        if field == "stride" and value is None:
            value = layer.kernel_size
        if tuples_of is not None:
            value = as_tuple(value, tuples_of, field, type(layer).__name__)
        object.__setattr__(layer, field, value)


@dataclasses.dataclass(frozen=True, repr=False)
class _MaxPool(Layer):
    """A max pooling layer, with `torch.nn.MaxPoolNd`'s arguments in its order."""

    kernel_size: Size
    stride: Size | None = None
    padding: Size = 0
    dilation: Size = 1
    return_indices: bool = False
    ceil_mode: bool = False
    _dims = 0

    def __post_init__(self):
        _as_given(self, "kernel_size", "stride", "padding", "dilation")
        self._window(type(self).__name__)

    def _window(self, who: str) -> Window:
        return Window.of(self._dims, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, who)

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False):
        return max_pool(x, self._window(repr(self)), self.return_indices, repr(self))

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


@dataclasses.dataclass(frozen=True, repr=False)
class MaxPool1d(_MaxPool):
    """`torch.nn.MaxPool1d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)`."""

    _dims = 1


@dataclasses.dataclass(frozen=True, repr=False)
class MaxPool2d(_MaxPool):
    """`torch.nn.MaxPool2d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)`;
    stride defaults to kernel_size. With `return_indices=True` it returns `(values, indices)`.

        >>> import jax.numpy as jnp
        >>> layer = MaxPool2d(2)
        >>> layer
        MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
        >>> layer.apply({}, jnp.ones((8, 3, 32, 32))).shape
        (8, 3, 16, 16)
    """

    _dims = 2


@dataclasses.dataclass(frozen=True, repr=False)
class MaxPool3d(_MaxPool):
    """`torch.nn.MaxPool3d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)`."""

    _dims = 3


@dataclasses.dataclass(frozen=True, repr=False)
class AvgPool1d(Layer):
    """`torch.nn.AvgPool1d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)`;
    it prints its sizes as 1-tuples, as PyTorch's does.

        >>> AvgPool1d(3, 2)
        AvgPool1d(kernel_size=(3,), stride=(2,), padding=(0,))
    """

    kernel_size: Size
    stride: Size | None = None
    padding: Size = 0
    ceil_mode: bool = False
    count_include_pad: bool = True

    def __post_init__(self):
        _as_given(self, "kernel_size", "stride", "padding", tuples_of=1)  # PyTorch's `_single`
        Window.of(1, self.kernel_size, self.stride, self.padding, 1, self.ceil_mode, "AvgPool1d")

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        window = Window.of(1, self.kernel_size, self.stride, self.padding, 1, self.ceil_mode, repr(self))
        return avg_pool(x, window, self.count_include_pad, None, repr(self))

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


@dataclasses.dataclass(frozen=True, repr=False)
class AvgPool2d(Layer):
    """`torch.nn.AvgPool2d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
    divisor_override=None)`.

        >>> import jax.numpy as jnp
        >>> AvgPool2d(3, stride=2, padding=1).apply({}, jnp.ones((3, 8, 8))).shape
        (3, 4, 4)
    """

    kernel_size: Size
    stride: Size | None = None
    padding: Size = 0
    ceil_mode: bool = False
    count_include_pad: bool = True
    divisor_override: int | None = None
    _dims = 2

    def __post_init__(self):
        _as_given(self, "kernel_size", "stride", "padding")
        _check_divisor(self.divisor_override, type(self).__name__)
        Window.of(self._dims, self.kernel_size, self.stride, self.padding, 1, self.ceil_mode, type(self).__name__)

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        window = Window.of(self._dims, self.kernel_size, self.stride, self.padding, 1, self.ceil_mode, repr(self))
        return avg_pool(x, window, self.count_include_pad, self.divisor_override, repr(self))

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


@dataclasses.dataclass(frozen=True, repr=False)
class AvgPool3d(AvgPool2d):
    """`torch.nn.AvgPool3d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
    divisor_override=None)`."""

    _dims = 3
