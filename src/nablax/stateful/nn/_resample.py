"""`nn.functional.interpolate`, `upsample`, `upsample_nearest`, `upsample_bilinear` and
`grid_sample`: PyTorch's checks, messages and warnings, recorded as one op whose math is
`nablax.nn.interpolate` or `nablax.nn.grid_sample`."""

from __future__ import annotations

import warnings

from ... import nn as pure
from ...nn.resample import output_sizes
from ..engine import Op
from ..tensor import Tensor
from ._checks import not_implemented, record_traced, reject_unsupported, require_floating, sizes

INTERPOLATE = Op("interpolate", pure.interpolate)
_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"
_NEEDS = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}
_GRAD_NAMES = {"nearest": "UpsampleNearest{}DBackward0", "nearest-exact": "UpsampleNearestExact{}DBackward0",
               "linear": "UpsampleLinear1DBackward0", "bilinear": "UpsampleBilinear2DBackward0",
               "bicubic": "UpsampleBicubic2DBackward0", "trilinear": "UpsampleTrilinear3DBackward0",
               "area": "AdaptiveAvgPool{}DBackward0"}
_KERNELS = {"nearest": "compute_indices_weights_nearest", "nearest-exact": "compute_indices_weights_nearest",
            "area": "adaptive_avg_pool2d"}


def _per_axis(value, name: str, input: Tensor):
    """`size` or `scale_factor` as a tuple (PyTorch's message when its length is wrong)."""
    dims = input.ndim - 2
    if not isinstance(value, (tuple, list)):
        return (value,) * dims
    if len(value) != dims:
        what = "output size" if name == "size" else "scale_factor of shape"
        fmt = "output size in (o1, o2, ...,oK)" if name == "size" else "scale_factor in (s1, s2, ...,sK)"
        raise ValueError(f"Input and {'output' if name == 'size' else 'scale_factor'} must have the same number of "
                         f"spatial dimensions, but got input with spatial dimensions of {list(input.shape[2:])} and "
                         f"{what} {value}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and {fmt} "
                         "format.")
    return tuple(value)


def _check_mode(input: Tensor, mode: str, align_corners, antialias: bool) -> None:
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                         "bicubic | trilinear")
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D "
                         "tensor as input")
    reject_unsupported("interpolate", antialias=(antialias, False))
    if mode in _NEEDS and input.ndim != _NEEDS[mode] and input.ndim in (3, 4, 5):
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {_NEEDS[mode]}D input")
    if mode not in _GRAD_NAMES or input.ndim not in (3, 4, 5):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the "
                                  f"modes: {_MODES} (got {mode})")
    if not input.dtype.is_floating_point and (mode not in _KERNELS or input.dtype.name != "uint8"):
        raise not_implemented(_KERNELS.get(mode, "compute_indices_weights_linear"), input)


def _check_sizes(input: Tensor, outs: tuple) -> None:
    if min(outs) > 0:
        return
    axes = ("D", "H", "W")[-len(outs):]
    shown = lambda sizes: ", ".join(f"{axis}: {size}" for axis, size in zip(axes, sizes))  # noqa: E731
    raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({shown(input.shape[2:])}) and "
                       f"output ({shown(outs)})")


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False) -> Tensor:
    """Resizes (N, C, *spatial) to `size` or by `scale_factor` with PyTorch's index math
    (`nablax.nn.interpolate`); 'lanczos' and `antialias=True` are not supported.

        >>> import nablax.stateful as torch
        >>> x = torch.tensor([[[0.0, 1.0]]])
        >>> torch.nn.functional.interpolate(x, size=4, mode="linear").tolist()
        [[[0.0, 0.25, 0.75, 1.0]]]
    """
    _check_mode(input, mode, align_corners, antialias)
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    size = None if size is None else tuple(int(s) for s in _per_axis(size, "size", input))
    scale_factor = None if scale_factor is None else tuple(float(s) for s in _per_axis(scale_factor, "scale", input))
    outs = output_sizes(tuple(input.shape[2:]), size, scale_factor)
    _check_sizes(input, outs)
    static = (("size", size), ("scale_factor", scale_factor), ("mode", mode),
              ("align_corners", bool(align_corners) if mode in _NEEDS else None),
              ("recompute_scale_factor", bool(recompute_scale_factor)))
    grad_name = "SqueezeBackward1" if mode == "area" and input.ndim == 3 else _GRAD_NAMES[mode].format(input.ndim - 2)
    return record_traced(INTERPOLATE, (input,), grad_name, static)


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None) -> Tensor:
    """`interpolate` under its deprecated name, with PyTorch's warning."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """`interpolate(..., mode='nearest')`, with PyTorch's deprecation warning."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """`interpolate(..., mode='bilinear', align_corners=True)`, with PyTorch's deprecation warning."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


GRID_SAMPLE = Op("grid_sample", pure.grid_sample)


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners=None) -> Tensor:
    """`input` (N, C, H, W) or (N, C, D, H, W) sampled at the normalised points `grid`
    (N, H_out, W_out, 2) or (N, D_out, H_out, W_out, 3) (`nablax.nn.grid_sample`)."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                         f"got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or 'reflection', "
                         f"but got: '{padding_mode}'")
    if input.ndim not in (4, 5) or grid.ndim != input.ndim or grid.shape[-1] != input.ndim - 2:
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but got "
                           f"input with sizes {sizes(input.shape)} and grid with sizes {sizes(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with sizes "
                           f"{sizes(input.shape)} and grid with sizes {sizes(grid.shape)}")
    if mode == "bicubic" and input.ndim != 4:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    require_floating("grid_sampler_2d" if input.ndim == 4 else "grid_sampler_3d", input)
    static = (("mode", mode), ("padding_mode", padding_mode), ("align_corners", bool(align_corners)))
    return record_traced(GRID_SAMPLE, (input, grid), f"GridSampler{input.ndim - 2}DBackward0", static)
