"""Statistics of order along a dim: `median`, `nanmedian`, `mode`, `quantile`, `nanquantile`,
`cummax` and `cummin`, with PyTorch's return types, its nan rules and its choice among ties.

Each op finds positions along the dim and takes the input's values there, so the gradient
goes back to those elements, as PyTorch's backward nodes send it.

    >>> import nablax.stateful as torch
    >>> torch.tensor([3.0, 1.0, 2.0, 1.0]).median()
    tensor(1.)
    >>> torch.quantile(torch.tensor([0.0, 10.0]), 0.25)
    tensor(2.5000)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .. import dtypes as dt
from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from ..views import wrap_dim
from .common import numpy_keywords
from .reductions import return_type


def _last(fn):
    """`fn(x, **static)` on `x` with the reduced dim moved last (a 0-d `x`, dim None, as one
    element); `fn` returns positions along that dim, kept as a dim of size 1."""
    def positions(x, *, dim, keepdim, **static):
        line = x.reshape(1) if dim is None else jnp.moveaxis(x, dim, -1)
        found = fn(line, **static)
        if dim is None:
            return found.reshape(())
        found = jnp.moveaxis(found, -1, dim)
        return found if keepdim else jnp.squeeze(found, dim)

    return positions


def _values_at(positions_fn):
    def values(x, *, dim, keepdim, **static):
        found = positions_fn(x, dim=dim, keepdim=True, **static)
        if dim is None:
            return x
        taken = jnp.take_along_axis(x, found, axis=dim)
        return taken if keepdim else jnp.squeeze(taken, dim)

    return values


def _median_positions(line, *, ignore_nan):
    """The lower median's position (PyTorch's): the first nan where one is present, unless
    `ignore_nan`, which takes the median of the other values (the first when all are nan)."""
    order = jnp.argsort(line, axis=-1, stable=True)
    nans = jnp.isnan(line) if jnp.issubdtype(line.dtype, jnp.inexact) else jnp.zeros(line.shape, bool)
    count = line.shape[-1] - jnp.sum(nans, axis=-1, keepdims=True)
    if ignore_nan:
        rank = jnp.maximum(count - 1, 0) // 2
    else:
        rank = jnp.where(count < line.shape[-1], count, (line.shape[-1] - 1) // 2)
    return jnp.take_along_axis(order, rank, axis=-1).astype(jnp.int64)


def _mode_positions(line):
    """The most frequent value's last position; among equally frequent values, the smallest."""
    order = jnp.argsort(line, axis=-1, stable=True)
    ranked = jnp.take_along_axis(line, order, axis=-1)
    size = line.shape[-1]
    steps = jnp.broadcast_to(jnp.arange(size), ranked.shape)
    new = jnp.concatenate([jnp.ones(ranked.shape[:-1] + (1,), bool), ranked[..., 1:] != ranked[..., :-1]], axis=-1)
    starts = jax.lax.cummax(jnp.where(new, steps, 0), axis=ranked.ndim - 1)
    ends = jnp.concatenate([new[..., 1:], jnp.ones(ranked.shape[:-1] + (1,), bool)], axis=-1)
    counts = jnp.where(ends, steps - starts + 1, 0)
    best = jnp.argmax(counts, axis=-1, keepdims=True)  # the first run of the largest count
    return jnp.take_along_axis(order, best, axis=-1).astype(jnp.int64)


_MEDIAN = {flag: _last(lambda line, ignore_nan=flag: _median_positions(line, ignore_nan=ignore_nan))
           for flag in (False, True)}
_POSITIONS = {"median": _MEDIAN[False], "nanmedian": _MEDIAN[True], "mode": _last(_mode_positions)}
_INDICES = {name: Op(f"{name}_indices", fn) for name, fn in _POSITIONS.items()}
_VALUES = {name: Op(f"{name}_values", _values_at(fn)) for name, fn in _POSITIONS.items()}
_ALL_MEDIAN = {name: Op(f"{name}_all", lambda x, name=name: _values_at(_POSITIONS[name])(x.reshape(-1), dim=0,
                                                                                          keepdim=False))
               for name in ("median", "nanmedian")}


def _by_dim(name: str, input: Tensor, dim: int, keepdim: bool, grad_name: str):
    """`torch.return_types.<name>(values, indices)` along `dim`."""
    d = wrap_dim(dim, input.ndim)
    if input.ndim and input.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    shape = (tuple(1 if i == d else s for i, s in enumerate(input.shape)) if keepdim
             else input.shape[:d] + input.shape[d + 1:])
    static = (("dim", d if input.ndim else None), ("keepdim", bool(keepdim)))
    values = record(_VALUES[name], (input,), shape, input.dtype.numpy, grad_name, static)
    indices = record(_INDICES[name], (input,), shape, np.dtype(np.int64), None, static, differentiable=False)
    return return_type(name)((values, indices))


def _median(name: str, input: Tensor, dim, keepdim: bool):
    grad_base = "MedianBackward" if name == "median" else "NanmedianBackward"
    if dim is not None:
        return _by_dim(name, input, dim, keepdim, f"{grad_base}1")
    if input.numel() == 0:
        return _nan_of(input)
    return record(_ALL_MEDIAN[name], (input,), (), input.dtype.numpy, f"{grad_base}0")


_NAN = Op("nan", lambda x: jnp.full((), jnp.nan, x.dtype))


def _nan_of(input: Tensor) -> Tensor:
    """PyTorch's median of no elements: nan."""
    return record(_NAN, (input,), (), input.dtype.numpy, None, differentiable=False)


@numpy_keywords
def median(input: Tensor, dim=None, keepdim: bool = False):
    """The lower median of all elements, or along `dim` with its position; nan where a nan is."""
    return _median("median", input, dim, keepdim)


@numpy_keywords
def nanmedian(input: Tensor, dim=None, keepdim: bool = False):
    """`median` of the values that are not nan."""
    return _median("nanmedian", input, dim, keepdim)


@numpy_keywords
def mode(input: Tensor, dim: int = -1, keepdim: bool = False):
    """The most frequent value along `dim` (the smallest among ties) and its last position."""
    return _by_dim("mode", input, dim, keepdim, "ModeBackward0")


# -- quantiles ----------------------------------------------------------------------------------


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_fn(x, q, *, dim, shape, interpolation, ignore_nan):
    """PyTorch's quantile: ranks `q * (n - 1)` into the sorted values, in the input's dtype,
    where `n` counts the values (those not nan with `ignore_nan`; any nan makes it nan else).
    The quantiles are a leading dim until the result takes its `shape`."""
    line = x.reshape(-1) if dim is None else jnp.moveaxis(x, dim, -1)
    ranked = jnp.sort(line, axis=-1)[None]
    nans = jnp.isnan(ranked)
    last = line.shape[-1] - 1
    q = jnp.reshape(q, (-1,) + (1,) * line.ndim)
    if ignore_nan:
        ranks = q * (jnp.sum(~nans, axis=-1, keepdims=True) - 1).astype(x.dtype)
        ranks = jnp.where(ranks < 0, jnp.zeros_like(ranks), ranks)  # all nan: the first, a nan
    else:
        ranks = jnp.where(jnp.any(nans, axis=-1, keepdims=True), jnp.asarray(last, x.dtype), q * last)
    ranks = {"lower": jnp.floor, "higher": jnp.ceil, "nearest": jnp.round}.get(interpolation, lambda r: r)(ranks)
    below = jnp.clip(jnp.trunc(ranks), 0, last).astype(jnp.int64)
    above = jnp.clip(jnp.ceil(ranks), 0, last).astype(jnp.int64)
    ranked = jnp.broadcast_to(ranked, ranks.shape[:-1] + ranked.shape[-1:])
    low = jnp.take_along_axis(ranked, below, axis=-1)
    high = jnp.take_along_axis(ranked, above, axis=-1)
    weight = jnp.full_like(ranks, 0.5) if interpolation == "midpoint" else ranks - below
    result = jnp.where(jnp.abs(weight) < 0.5, low + weight * (high - low), high - (high - low) * (1 - weight))
    return result.reshape(shape)


_QUANTILE = Op("quantile", _quantile_fn)


def _check_quantile(name: str, input: Tensor, q, interpolation: str) -> None:
    if input.dtype not in (dt.float32, dt.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if input.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q.dtype is not input.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        values = np.asarray(q._host()).reshape(-1)
    else:
        values = np.asarray([q], dtype=float)
    bad = values[~((values >= 0) & (values <= 1))]
    if bad.size:
        raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {bad[0]}" if not isinstance(q, Tensor)
                           else f"{name}() q values must be in the range [0, 1]")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest, "
                           f"but got {interpolation}")


def _quantile(name: str, input: Tensor, q, dim, keepdim: bool, interpolation: str) -> Tensor:
    _check_quantile(name, input, q, interpolation)
    d = None if dim is None else wrap_dim(dim, input.ndim)
    if d is not None and input.ndim == 0:
        d = None
    q_tensor = q if isinstance(q, Tensor) else float(q)
    leading = tuple(q.shape) if isinstance(q, Tensor) else ()
    if d is None:
        rest = (1,) * input.ndim if keepdim else ()
    else:
        rest = tuple(1 if i == d else s for i, s in enumerate(input.shape)) if keepdim else \
            input.shape[:d] + input.shape[d + 1:]
    q_operand = q_tensor if isinstance(q_tensor, Tensor) else np.asarray(q_tensor, input.dtype.numpy)
    return record(_QUANTILE, (input, q_operand), leading + rest, input.dtype.numpy, "SqueezeBackward4",
                  (("dim", d), ("shape", leading + rest), ("interpolation", interpolation),
                   ("ignore_nan", name == "nanquantile")))


def quantile(input: Tensor, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear") -> Tensor:
    """The `q`-th quantiles (a number, or a 1-D tensor: a leading dim) of all elements or along `dim`."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation)


def nanquantile(input: Tensor, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear") -> Tensor:
    """`quantile` of the values that are not nan (nan where there are none)."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation)


# -- running extremes ----------------------------------------------------------------------------


def _running_positions(x, *, dim, which):
    """The position of the running max (min) along `dim`: the latest among ties, and the
    latest nan once one is seen (PyTorch's rule)."""
    if dim is None:
        return jnp.zeros((), jnp.int64)
    positions = jnp.broadcast_to(jnp.arange(x.shape[dim]).reshape([-1 if i == dim else 1 for i in range(x.ndim)]),
                                 x.shape)
    floating = jnp.issubdtype(x.dtype, jnp.inexact)

    def combine(earlier, later):
        (value_a, index_a), (value_b, index_b) = earlier, later
        better = value_b >= value_a if which == "max" else value_b <= value_a
        if floating:
            better = jnp.isnan(value_b) | (~jnp.isnan(value_a) & better)
        return jnp.where(better, value_b, value_a), jnp.where(better, index_b, index_a)

    return jax.lax.associative_scan(combine, (x, positions), axis=dim)[1].astype(jnp.int64)


def _running_values(x, *, dim, which):
    if dim is None:
        return x
    return jnp.take_along_axis(x, _running_positions(x, dim=dim, which=which), axis=dim)


_RUNNING_INDICES = Op("running_extreme_indices", _running_positions)
_RUNNING_VALUES = Op("running_extreme_values", _running_values)


def _running(name: str, input: Tensor, dim: int):
    d = wrap_dim(dim, input.ndim)
    static = (("dim", d if input.ndim and input.numel() else None), ("which", name[3:]))
    values = record(_RUNNING_VALUES, (input,), input.shape, input.dtype.numpy, f"{name.capitalize()}Backward0", static)
    indices = record(_RUNNING_INDICES, (input,), input.shape, np.dtype(np.int64), None, static, differentiable=False)
    return return_type(name)((values, indices))


@numpy_keywords
def cummax(input: Tensor, dim: int):
    """The running maximum along `dim` and where it was found."""
    return _running("cummax", input, dim)


@numpy_keywords
def cummin(input: Tensor, dim: int):
    """The running minimum along `dim` and where it was found."""
    return _running("cummin", input, dim)


FUNCTIONS = {function.__name__: function for function in
             (median, nanmedian, mode, quantile, nanquantile, cummax, cummin)}
