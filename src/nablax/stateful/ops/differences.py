"""Finite differences: `diff` (repeated differences of neighbours along a dim, of bools
their inequality) and `gradient` (central differences inside, one-sided at the edges, as
PyTorch computes them), with PyTorch's checks.

    >>> import nablax.stateful as torch
    >>> torch.diff(torch.tensor([1, 4, 9, 16]))
    tensor([3, 5, 7])
    >>> torch.gradient(torch.tensor([1.0, 4.0, 9.0, 16.0]))
    (tensor([3., 4., 6., 7.]),)
"""

from __future__ import annotations

import jax.numpy as jnp
from .. import dtypes as dt
from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from ..views import wrap_dim
from .common import SCALARS, cast


def _diff_fn(x, *ends, n, dim, has_prepend, dtype):
    ends = [cast(end, dtype) for end in ends]
    before, after = (ends[:1], ends[1:]) if has_prepend else ([], ends)
    x = jnp.concatenate([*before, cast(x, dtype), *after], axis=dim)
    for _ in range(min(n, x.shape[dim])):
        ahead = jnp.take(x, jnp.arange(1, x.shape[dim]), axis=dim)
        behind = jnp.take(x, jnp.arange(x.shape[dim] - 1), axis=dim)
        x = ahead != behind if x.dtype == jnp.bool_ else ahead - behind
    return x


_DIFF = Op("diff", _diff_fn)


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None, append: Tensor | None = None) -> Tensor:
    """The `n`-th differences `x[i + 1] - x[i]` along `dim`, after `prepend` and `append`
    are joined on (of bools, whether neighbours differ)."""
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = wrap_dim(dim, input.ndim)
    ends = [end for end in (prepend, append) if end is not None and n]  # PyTorch joins nothing for n == 0
    for end in ends:
        if end.ndim != input.ndim:
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    dtype = dt.result_type(input, *ends) if ends else input.dtype
    size = input.shape[d] + sum(end.shape[d] for end in ends)
    shape = tuple(max(size - n, 0) if i == d else s for i, s in enumerate(input.shape))
    return record(_DIFF, (input, *ends), shape, dtype.numpy, "SubBackward0",
                  (("n", n), ("dim", d), ("has_prepend", prepend is not None and n > 0), ("dtype", dtype.numpy)))


def _slice(x, dim: int, start, stop=None):
    return jnp.take(x, jnp.arange(x.shape[dim])[start:stop], axis=dim)


def _uniform(x, h, dim: int, edge_order: int):
    """PyTorch's differences for a uniform `h`: the centre, the first and the last."""
    centre = (_slice(x, dim, 2) - _slice(x, dim, 0, -2)) / h / 2
    if edge_order == 1:
        first = (_slice(x, dim, 1, 2) - _slice(x, dim, 0, 1)) / h
        last = (_slice(x, dim, -1) - _slice(x, dim, -2, -1)) / h
    else:
        first = (-1.5 * _slice(x, dim, 0, 1) + 2 * _slice(x, dim, 1, 2) - 0.5 * _slice(x, dim, 2, 3)) / h
        last = (0.5 * _slice(x, dim, -3, -2) - 2 * _slice(x, dim, -2, -1) + 1.5 * _slice(x, dim, -1)) / h
    return centre, first, last


def _at(dx, dim: int, ndim: int):
    """The spacings `dx` along `dim` of an `ndim`-dim tensor."""
    return dx.reshape([-1 if i == dim else 1 for i in range(ndim)])


def _coordinates(x, coordinates, dim: int, edge_order: int):
    """PyTorch's differences at the points `coordinates` along `dim`."""
    dx = jnp.diff(coordinates)
    dx1, dx2 = _at(dx[:-1], dim, x.ndim), _at(dx[1:], dim, x.ndim)
    centre = (-dx2 / (dx1 * (dx1 + dx2)) * _slice(x, dim, 0, -2) + (dx2 - dx1) / (dx1 * dx2) * _slice(x, dim, 1, -1)
              + dx1 / (dx2 * (dx1 + dx2)) * _slice(x, dim, 2))
    if edge_order == 1:
        return centre, (_slice(x, dim, 1, 2) - _slice(x, dim, 0, 1)) / dx[0], \
            (_slice(x, dim, -1) - _slice(x, dim, -2, -1)) / dx[-1]
    a, b, c = (-(2.0 * dx[0] + dx[1]) / (dx[0] * (dx[0] + dx[1])), (dx[0] + dx[1]) / (dx[0] * dx[1]),
               -dx[0] / (dx[1] * (dx[0] + dx[1])))
    first = a * _slice(x, dim, 0, 1) + b * _slice(x, dim, 1, 2) + c * _slice(x, dim, 2, 3)
    a, b, c = (dx[-1] / (dx[-2] * (dx[-1] + dx[-2])), -(dx[-1] + dx[-2]) / (dx[-1] * dx[-2]),
               (2 * dx[-1] + dx[-2]) / (dx[-1] * (dx[-1] + dx[-2])))
    last = a * _slice(x, dim, -3, -2) + b * _slice(x, dim, -2, -1) + c * _slice(x, dim, -1)
    return centre, first, last


def _gradient_fn(x, *coordinates, dim, spacing, edge_order, dtype):
    x = cast(x, dtype)
    if coordinates:
        parts = _coordinates(x, cast(coordinates[0], dtype), dim, edge_order)
    else:
        parts = _uniform(x, spacing, dim, edge_order)
    centre, first, last = parts
    return jnp.concatenate([first, centre, last], axis=dim)


_GRADIENT = Op("gradient", _gradient_fn)


def _spacings(spacing, count: int) -> list:
    if spacing is None:
        return [1.0] * count
    if isinstance(spacing, (*SCALARS, Tensor)) and not (isinstance(spacing, Tensor) and spacing.ndim):
        return [spacing.item() if isinstance(spacing, Tensor) else spacing] * count
    spacing = list(spacing)
    if len(spacing) != count:
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim "
                           f"arguments to have the same length, but got a spacing argument of length {len(spacing)} "
                           f"and a dim argument of length {count}.")
    return spacing


def gradient(input: Tensor, *, spacing=None, dim=None, edge_order: int = 1) -> tuple:
    """The derivative of `input` along each dim in `dim` (all when None), from central
    differences inside and one-sided ones (of `edge_order` 1 or 2) at the edges; `spacing`
    is the step (a number, one per dim) or the points' coordinates (one 1-D tensor per dim)."""
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = list(range(input.ndim)) if dim is None else [dim] if isinstance(dim, int) else list(dim)
    dims = [wrap_dim(d, input.ndim) for d in dims]
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
    floating = input.dtype.is_floating_point or input.dtype.is_complex
    dtype = input.dtype if floating else dt.get_default_dtype()
    results = []
    for d, step in zip(dims, _spacings(spacing, len(dims))):
        coordinates = (step,) if isinstance(step, Tensor) else ()
        static = (("dim", d), ("spacing", None if coordinates else float(step)), ("edge_order", edge_order),
                  ("dtype", dtype.numpy))
        results.append(record(_GRADIENT, (input, *coordinates), input.shape, dtype.numpy, "CatBackward0", static))
    return tuple(results)


FUNCTIONS = {"diff": diff, "gradient": gradient}
METHODS = {"diff": diff}
