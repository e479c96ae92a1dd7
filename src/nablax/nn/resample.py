"""Resizing of (N, C, *spatial) inputs as PyTorch's `nn.functional.interpolate` resizes them:
'nearest', 'nearest-exact', 'linear', 'bilinear', 'bicubic', 'trilinear' and 'area'.

Where each output position reads from follows PyTorch's index math (its UpSample.h) in
float32, as its kernels compute it, not `jax.image.resize`'s conventions: with
`align_corners=False` the source of output i is (i + 0.5) * scale - 0.5, with True it is
i * (in - 1) / (out - 1), and a given `scale_factor` sets the scale to 1 / scale_factor.
The weights depend on sizes only, so each axis is a constant [out, in] matrix (or, for the
nearest modes, a gather) and JAX differentiates the contraction.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from .adaptive_pool import adaptive_avg_pool

_CUBIC_A = np.float32(-0.75)  # PyTorch's (and OpenCV's) bicubic coefficient
LINEAR_MODES = ("linear", "bilinear", "bicubic", "trilinear")


def output_sizes(input_sizes, size=None, scale_factor=None) -> tuple[int, ...]:
    """The output's spatial sizes: `size`, or floor(in * scale_factor) per axis."""
    dims = len(input_sizes)
    if size is not None:
        return tuple(int(s) for s in (size if isinstance(size, (tuple, list)) else (size,) * dims))
    scales = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * dims
    return tuple(math.floor(float(n) * float(s)) for n, s in zip(input_sizes, scales))


def _scale(size: int, out: int, align_corners: bool, scale_factor) -> np.float32:
    """PyTorch's `area_pixel_compute_scale`."""
    if align_corners:
        return np.float32((size - 1) / (out - 1)) if out > 1 else np.float32(0)
    if scale_factor is not None and scale_factor > 0:
        return np.float32(1.0 / scale_factor)
    return np.float32(size / out)


def _nearest_positions(size: int, out: int, scale_factor, exact: bool) -> np.ndarray:
    scale = np.float32(1.0 / scale_factor) if scale_factor is not None and scale_factor > 0 else np.float32(size / out)
    position = np.arange(out, dtype=np.float32) + (np.float32(0.5) if exact else np.float32(0))
    return np.minimum(np.floor(position * scale).astype(np.int64), size - 1)


def _sources(size: int, out: int, align_corners: bool, scale_factor, cubic: bool) -> np.ndarray:
    """PyTorch's `area_pixel_compute_source_index` for every output position, in float32."""
    scale = _scale(size, out, align_corners, scale_factor)
    index = np.arange(out, dtype=np.float32)
    if align_corners:
        return scale * index
    source = scale * (index + np.float32(0.5)) - np.float32(0.5)
    return source if cubic else np.maximum(source, np.float32(0))


def _linear_matrix(size: int, out: int, align_corners: bool, scale_factor) -> np.ndarray:
    source = _sources(size, out, align_corners, scale_factor, cubic=False)
    low = np.minimum(np.floor(source).astype(np.int64), size - 1)
    weight = np.clip(source - low.astype(np.float32), 0, 1)
    high = np.minimum(low + 1, size - 1)
    matrix = np.zeros((out, size), np.float32)
    rows = np.arange(out)
    np.add.at(matrix, (rows, low), np.float32(1) - weight)
    np.add.at(matrix, (rows, high), weight)
    return matrix


def cubic_weights(t) -> list:
    """The four taps' weights at distance t (in [0, 1)) past the second one (NumPy or JAX arrays)."""
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    one = np.float32(1)
    return [far(t + one), near(t), near(one - t), far(np.float32(2) - t)]


def _cubic_matrix(size: int, out: int, align_corners: bool, scale_factor) -> np.ndarray:
    source = _sources(size, out, align_corners, scale_factor, cubic=True)
    start = np.floor(source)
    weights = cubic_weights((source - start).astype(np.float32))
    matrix = np.zeros((out, size), np.float32)
    rows = np.arange(out)
    for tap, weight in enumerate(weights):  # taps outside the input read its edge
        np.add.at(matrix, (rows, np.clip(start.astype(np.int64) - 1 + tap, 0, size - 1)), weight)
    return matrix


def _contract(x, matrices) -> jax.Array:
    dims = len(matrices)
    inputs, outputs = "dhw"[-dims:], "ijk"[-dims:]
    spec = f"...{inputs}," + ",".join(o + i for o, i in zip(outputs, inputs)) + f"->...{outputs}"
    return jnp.einsum(spec, x, *(jnp.asarray(m, x.dtype) for m in matrices), precision="highest")


def interpolate(x, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None) -> jax.Array:
    """`torch.nn.functional.interpolate` of (N, C, *spatial) to `size`, or by `scale_factor`
    (which also sets the index scale unless `recompute_scale_factor`).

        >>> import jax.numpy as jnp
        >>> interpolate(jnp.array([[[0.0, 1.0]]]), size=4, mode="linear").tolist()
        [[[0.0, 0.25, 0.75, 1.0]]]
        >>> interpolate(jnp.array([[[0.0, 1.0]]]), scale_factor=2).tolist()
        [[[0.0, 0.0, 1.0, 1.0]]]
    """
    x = jnp.asarray(x)
    spatial = x.shape[2:]
    dims = len(spatial)
    outs = output_sizes(spatial, size, scale_factor)
    scales = (None,) * dims if size is not None or recompute_scale_factor else (
        tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * dims)
    if mode == "area":
        return adaptive_avg_pool(x, outs, dims, "interpolate")
    if mode in ("nearest", "nearest-exact"):
        for axis, (n, out, s) in enumerate(zip(spatial, outs, scales)):
            x = jnp.take(x, _nearest_positions(n, out, s, mode == "nearest-exact"), axis=2 + axis)
        return x
    if mode not in LINEAR_MODES:
        raise ValueError(f"interpolate: unknown mode {mode!r}")
    build = _cubic_matrix if mode == "bicubic" else _linear_matrix
    return _contract(x, [build(n, out, bool(align_corners), s) for n, out, s in zip(spatial, outs, scales)])
