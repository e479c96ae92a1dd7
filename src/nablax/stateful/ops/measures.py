"""Distances, integrals and covariances: `cdist`, `dist`, `trapezoid`/`trapz`,
`cumulative_trapezoid`, `cov` and `corrcoef`, with PyTorch's dtypes (integers give the
default float) and its gradients where a distance is zero (none).

    >>> import nablax.stateful as torch
    >>> torch.trapezoid(torch.tensor([1.0, 2.0, 3.0]))
    tensor(4.)
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from .. import dtypes as dt
from ..engine import Op
from ..tensor import Tensor
from ..views import wrap_dim
from . import arithmetic as A
from . import linalg as norms
from .matrices import apply


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _distance(difference, p):
    """The p-norm of `difference` along its last dim (0 < p < inf)."""
    if p == 2:
        return jnp.sqrt(jnp.sum(difference * difference, -1))
    return jnp.sum(jnp.abs(difference) ** p, -1) ** (1 / p)


@_distance.defjvp
def _distance_jvp(p, primals, tangents):
    """PyTorch's derivative of cdist: sign(d) |d|^(p-1) / dist^(p-1), zero where the
    distance is zero, or (p < 1) where the difference is."""
    (difference,), (tangent,) = primals, tangents
    distance = _distance(difference, p)
    safe = jnp.where(distance == 0, 1, distance)[..., None]
    magnitude = jnp.where(difference == 0, 1, jnp.abs(difference))
    scale = jnp.sign(difference) * (magnitude / safe) ** (p - 1)
    scale = jnp.where((distance[..., None] == 0) | ((difference == 0) & (p < 1)), 0, scale)
    return distance, jnp.sum(scale * tangent, -1)


def _cdist(x1, x2, *, p):
    batch = jnp.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    x1 = jnp.broadcast_to(x1, batch + x1.shape[-2:])
    x2 = jnp.broadcast_to(x2, batch + x2.shape[-2:])
    difference = x1[..., :, None, :] - x2[..., None, :, :]
    if p == 0:
        return jnp.sum(difference != 0, -1).astype(x1.dtype)
    if p == float("inf"):
        return jnp.max(jnp.abs(difference), -1, initial=0.0)
    return _distance(difference, p)


_CDIST = Op("cdist", _cdist)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode=None) -> Tensor:
    """The p-norm distance between each row of `x1` and each row of `x2` (batched). The
    differences are always taken directly (PyTorch may use a matrix product for p=2, which
    rounds otherwise)."""
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X{1 if x1.ndim < 2 else 2} got: "
                           f"{x1.ndim if x1.ndim < 2 else x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    return apply(_CDIST, (x1, x2), "CdistBackward0", (("p", float(p)),))


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The p-norm of `input - other`."""
    return norms.vector_norm(A.sub(input, other), p)


def _float_dtype(*tensors: Tensor):
    kind = dt.result_type(*tensors)
    return (kind if kind.is_floating_point or kind.is_complex else dt.get_default_dtype()).numpy


def _sides(y, dim):
    """`y` without its last, and without its first, element along `dim`."""
    size = y.shape[dim]
    return jax.lax.slice_in_dim(y, 0, max(size - 1, 0), axis=dim), jax.lax.slice_in_dim(y, min(1, size), size, axis=dim)


def _spacing(x, y, dim):
    """The steps of the sample points `x` (1-D along `dim`, or broadcast with `y`)."""
    if x.ndim == 1:
        steps = jnp.diff(x)
        return steps.reshape((-1,) + (1,) * (y.ndim - 1 - dim))
    return jnp.diff(x, axis=dim - y.ndim)


def _trapezoid(y, x=None, *, dx, dim, cumulative, dtype):
    y = y.astype(dtype)
    left, right = _sides(y, dim)
    if x is None:
        areas = (left + right) * (dx / 2)
        if not cumulative:  # PyTorch's form: (sum - (first + last) / 2) * dx
            if not y.shape[dim]:
                return jnp.sum(y, dim)
            ends = jnp.take(y, 0, dim) + jnp.take(y, -1, dim)
            return (jnp.sum(y, dim) - ends * 0.5) * dx
    else:
        areas = _spacing(x.astype(dtype), y, dim) * (left + right) / 2
    return jnp.cumsum(areas, dim) if cumulative else jnp.sum(areas, dim)


_TRAPEZOID = Op("trapezoid", _trapezoid)


def _integrate(y: Tensor, x, dx, dim: int, cumulative: bool) -> Tensor:
    d = wrap_dim(dim, y.ndim)
    if isinstance(x, Tensor) and x.ndim != 1 and x.ndim != y.ndim:
        raise RuntimeError("trapezoid: There must be one `x` value for each sample point")
    operands = (y,) if x is None else (y, x)
    dtype = _float_dtype(*operands)
    grad_name = "CumsumBackward0" if cumulative else "MulBackward1" if x is None else "DivBackward1"
    return apply(_TRAPEZOID, operands, grad_name, (("dx", 1.0 if dx is None else dx), ("dim", d),
                                                        ("cumulative", cumulative), ("dtype", dtype)))


def trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The integral of `y` along `dim` by the trapezoid rule, at points `x` or spaced `dx`."""
    if isinstance(x, (int, float)):
        x, dx = None, x
    return _integrate(y, x, dx, dim, cumulative=False)


def trapz(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The running integrals of `y` along `dim` (one fewer than the points)."""
    if isinstance(x, (int, float)):
        x, dx = None, x
    return _integrate(y, x, dx, dim, cumulative=True)


def _cov(x, *weights, correction, has, dtype):
    x = x.astype(dtype).reshape((1, -1) if x.ndim < 2 else x.shape)
    given = dict(zip((name for name in ("fweights", "aweights") if name in has), weights))
    fweights, aweights = given.get("fweights"), given.get("aweights")
    w = None if fweights is None else fweights.astype(dtype)
    if aweights is not None:
        w = aweights.astype(dtype) if w is None else w * aweights.astype(dtype)
    if w is None:
        total = x.shape[1]
        average = jnp.mean(x, 1)
    else:
        total = jnp.sum(w)
        average = jnp.sum(x * w, 1) / total
    factor = total - correction
    if w is not None and aweights is not None and correction:
        factor = total - correction * jnp.sum(w * aweights.astype(dtype)) / total
    factor = jnp.maximum(factor, 0)
    centred = x - average[:, None]
    product = (centred * w if w is not None else centred) @ centred.T
    return jnp.squeeze(product / factor)


def _corrcoef(x, *, dtype):
    c = _cov(x, correction=1, has=(), dtype=dtype)
    if c.ndim == 0:
        return c / c
    spread = jnp.sqrt(jnp.diagonal(c))
    c = c / spread[:, None] / spread[None, :]
    return jnp.where(c > 1, 1.0, jnp.where(c < -1, -1.0, c)).astype(dtype)  # where: the gradient passes at ±1


_COV = Op("cov", _cov)
_CORRCOEF = Op("corrcoef", _corrcoef)


def cov(input: Tensor, *, correction: int = 1, fweights=None, aweights=None) -> Tensor:
    """The covariance matrix of the variables in the rows of `input` (observations in columns)."""
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with {input.ndim} dimensions")
    weights = {name: value for name, value in (("fweights", fweights), ("aweights", aweights)) if value is not None}
    return apply(_COV, (input, *weights.values()), "SqueezeBackward0",
                 (("correction", correction), ("has", tuple(weights)), ("dtype", _float_dtype(input))))


def corrcoef(input: Tensor) -> Tensor:
    """Pearson's correlation coefficients of the variables in the rows of `input`."""
    if input.ndim > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but got an input with {input.ndim} dimensions")
    return apply(_CORRCOEF, (input,), "ClampBackward1", (("dtype", _float_dtype(input)),))


FUNCTIONS = {function.__name__: function for function in (cdist, dist, trapezoid, trapz, cumulative_trapezoid, cov,
                                                           corrcoef)}
METHODS = {name: FUNCTIONS[name] for name in ("dist", "cov", "corrcoef")}
