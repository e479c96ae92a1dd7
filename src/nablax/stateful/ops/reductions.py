"""Reductions (sum, mean, prod, max, min, amax, amin, argmax, argmin, all, any, logsumexp)
and the softmax family, with PyTorch's dims, dtypes, return types and backward-node names.
Each takes NumPy's `axis=` and `keepdims=` too."""

from __future__ import annotations

import builtins
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from .. import dtypes as dt
from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from ..views import wrap_dim
from .arithmetic import maximum, minimum
from .common import cast, not_implemented, numpy_keywords

# -- reductions ----------------------------------------------------------------------------------


def reduced_dims(x: Tensor, dim) -> tuple | None:
    """The reduced axes, sorted; a 0-d tensor accepts dim 0 or -1 and has none to reduce."""
    if dim is None:
        return None
    dims = [wrap_dim(d, x.ndim) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))]
    for d in dims:
        if dims.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return tuple(sorted(dims)) if x.ndim else ()


def reduced_shape(shape: tuple, dims, keepdim: bool) -> tuple:
    if dims is None:
        return tuple(1 for _ in shape) if keepdim else ()
    return tuple(1 if i in dims else s for i, s in enumerate(shape)) if keepdim else tuple(s for i, s in enumerate(shape) if i not in dims)


SUM = Op("sum", lambda x, *, dims, keepdim, dtype: jnp.sum(cast(x, dtype), axis=dims, keepdims=keepdim), saves=False)
MEAN = Op("mean", lambda x, *, dims, keepdim, dtype: jnp.mean(cast(x, dtype), axis=dims, keepdims=keepdim), saves=False)
PROD = Op("prod", lambda x, *, dims, keepdim, dtype: jnp.prod(cast(x, dtype), axis=dims, keepdims=keepdim))


@numpy_keywords
def sum(x, dim=None, keepdim=False, *, dtype=None):  # noqa: A001
    result = dt.as_dtype(dtype) if dtype is not None else (dt.int64 if not (x.dtype.is_floating_point or x.dtype.is_complex) else x.dtype)
    dims = reduced_dims(x, dim)
    name = "SumBackward0" if dim is None else "SumBackward1"
    return record(SUM, (x,), reduced_shape(x.shape, dims, keepdim), result.numpy, name,
                  (("dims", dims), ("keepdim", bool(keepdim)), ("dtype", result.numpy)))


@numpy_keywords
def mean(x, dim=None, keepdim=False, *, dtype=None):
    result = dt.as_dtype(dtype) if dtype is not None else x.dtype
    if not (result.is_floating_point or result.is_complex):
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. "
            f"Got: {result.scalar_name}"
        )
    dims = reduced_dims(x, dim)
    name = "MeanBackward0" if dim is None else "MeanBackward1"
    return record(MEAN, (x,), reduced_shape(x.shape, dims, keepdim), result.numpy, name,
                  (("dims", dims), ("keepdim", bool(keepdim)), ("dtype", result.numpy)))


@numpy_keywords
def prod(x, dim=None, keepdim=False, *, dtype=None):
    if isinstance(dim, (tuple, list)):  # unlike sum and mean, prod reduces one dim at most
        raise TypeError(
            f"prod() received an invalid combination of arguments - got ({type(dim).__name__}), but expected one of:\n"
            " * (*, torch.dtype dtype = None)\n * (int dim, bool keepdim = False, *, torch.dtype dtype = None)\n")
    result = dt.as_dtype(dtype) if dtype is not None else (dt.int64 if not (x.dtype.is_floating_point or x.dtype.is_complex) else x.dtype)
    dims = reduced_dims(x, dim)
    return record(PROD, (x,), reduced_shape(x.shape, dims, keepdim), result.numpy,
                  "ProdBackward0" if dim is None else "ProdBackward1", (("dims", dims), ("keepdim", bool(keepdim)), ("dtype", result.numpy)))


@jax.custom_jvp
def _std_of_variance(variance):
    return jnp.sqrt(variance)


@_std_of_variance.defjvp
def _std_of_variance_jvp(primals, tangents):
    """PyTorch's: where the std is 0 its gradient is 0 (the derivative of sqrt is infinite)."""
    std = jnp.sqrt(primals[0])
    return std, jnp.where(std == 0, jnp.zeros_like(std), tangents[0] / (2 * std))


def _variance_fn(x, *, dims, keepdim, correction, root):
    centered = x - jnp.mean(x, axis=dims, keepdims=True)
    count = x.size if dims is None else math.prod(x.shape[d] for d in dims)
    variance = jnp.sum(centered * centered, axis=dims, keepdims=keepdim) / builtins.max(count - correction, 0)
    return _std_of_variance(variance) if root else variance


VARIANCE = Op("variance", _variance_fn)


def variance(x, dim=None, correction=1, keepdim=False, *, root=False):
    """`var` (or `std` with `root`), one node as in PyTorch (`VarBackward0`, `StdBackward0`)."""
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        raise RuntimeError("std and var only support floating point and complex dtypes")
    dims = reduced_dims(x, dim)
    return record(VARIANCE, (x,), reduced_shape(x.shape, dims, keepdim), x.dtype.numpy,
                  "StdBackward0" if root else "VarBackward0",
                  (("dims", dims), ("keepdim", bool(keepdim)), ("correction", correction), ("root", root)))


_REDUCE_ALL = {
    "max": Op("max_all", lambda x: jnp.max(x)),
    "min": Op("min_all", lambda x: jnp.min(x)),
}


def _extreme_values(x, *, dim, keepdim, which):
    """The max/min along `dim`, taken at the index argmax/argmin finds: the gradient goes to
    that one element, as in PyTorch. `dim` is None for a 0-d tensor, its own extreme."""
    if dim is None:
        return x
    index = (jnp.argmax if which == "max" else jnp.argmin)(x, axis=dim, keepdims=True)
    values = jnp.take_along_axis(x, index, axis=dim)
    return values if keepdim else jnp.squeeze(values, dim)


# Values and indices are separate nodes (XLA computes the argmax once), so that the values'
# grad_fn has the input's node as its next function, as in PyTorch.
_EXTREME_VALUES = Op("extreme_values", _extreme_values)


def _check_reduction_dim(x, name: str, dim: int) -> None:
    if x.ndim and x.shape[dim] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")


class _ValuesIndices(tuple):
    """`torch.return_types.max(values=..., indices=...)`."""

    __slots__ = ()
    _name = "max"

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

    def __repr__(self) -> str:
        return f"torch.return_types.{self._name}(\nvalues={self[0]!r},\nindices={self[1]!r})"


@functools.lru_cache(maxsize=None)
def return_type(name: str) -> type:
    # PyTorch's module name, so that `type(x.max(0))` prints `<class 'torch.return_types.max'>`.
    return type(name, (_ValuesIndices,), {"__slots__": (), "_name": name, "__module__": "torch.return_types"})


def extreme(x, which: str, dim=None, keepdim=False):
    """`max`/`min`: of everything (`dim=None`), per `dim` (values and indices), or
    elementwise against another tensor."""
    if isinstance(dim, Tensor):
        return maximum(x, dim) if which == "max" else minimum(x, dim)
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError(f"{which}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.")
        return record(_REDUCE_ALL[which], (x,), (), x.dtype.numpy, f"{which.capitalize()}Backward1")
    d = wrap_dim(dim, x.ndim)
    _check_reduction_dim(x, which, d)
    shape = reduced_shape(x.shape, (d,), keepdim) if x.ndim else ()
    static = (("dim", d if x.ndim else None), ("keepdim", bool(keepdim)))
    values = record(_EXTREME_VALUES, (x,), shape, x.dtype.numpy, f"{which.capitalize()}Backward0", (*static, ("which", which)))
    indices = record(_ARG["arg" + which], (x,), shape, np.dtype(np.int64), None, static, differentiable=False)
    return return_type(which)((values, indices))


_ARG = {
    "argmax": Op("argmax", lambda x, *, dim, keepdim: jnp.argmax(x, axis=dim, keepdims=keepdim).astype(jnp.int64)),
    "argmin": Op("argmin", lambda x, *, dim, keepdim: jnp.argmin(x, axis=dim, keepdims=keepdim).astype(jnp.int64)),
}


def arg_extreme(x, name: str, dim=None, keepdim=False):
    if x.dtype is dt.bool_:
        raise RuntimeError(f"{name}(): does not support bool input")
    if dim is None:
        if x.numel() == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        shape = tuple(1 for _ in x.shape) if keepdim else ()
        source = x.reshape(-1) if not keepdim else x
        d = 0 if not keepdim else None
        if keepdim:
            return record(_ARG[name], (x,), shape, np.dtype(np.int64), None, (("dim", None), ("keepdim", True)),
                          differentiable=False)
        return record(_ARG[name], (source,), shape, np.dtype(np.int64), None, (("dim", d), ("keepdim", False)),
                      differentiable=False)
    d = wrap_dim(dim, x.ndim)
    _check_reduction_dim(x, name, d)
    if not x.ndim:
        return record(_ARG[name], (x,), (), np.dtype(np.int64), None, (("dim", None), ("keepdim", False)),
                      differentiable=False)
    return record(_ARG[name], (x,), reduced_shape(x.shape, (d,), keepdim), np.dtype(np.int64), None,
                  (("dim", d), ("keepdim", bool(keepdim))), differentiable=False)


_AMAX = {
    "amax": Op("amax", lambda x, *, dims, keepdim: jnp.max(x, axis=dims, keepdims=keepdim)),
    "amin": Op("amin", lambda x, *, dims, keepdim: jnp.min(x, axis=dims, keepdims=keepdim)),
}


def _amax(x, name: str, dim, keepdim):
    """`amax`/`amin`: the extreme over `dim` (all dims when empty), the gradient shared
    evenly among ties, as PyTorch's."""
    dims = reduced_dims(x, dim) if dim not in ((), []) else None
    if dims is None and x.numel() == 0:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                           "reduction dim with the 'dim' argument.")
    for d in dims or ():
        _check_reduction_dim(x, name, d)
    return record(_AMAX[name], (x,), reduced_shape(x.shape, dims, keepdim), x.dtype.numpy,
                  f"{name.capitalize()}Backward0", (("dims", dims), ("keepdim", bool(keepdim))))


def _truth_fn(x, *, which, dims, keepdim, dtype):
    truth = x if x.dtype == jnp.bool_ else x != 0
    return (jnp.all if which == "all" else jnp.any)(truth, axis=dims, keepdims=keepdim).astype(dtype)


_TRUTH = Op("all_any", _truth_fn)


def _truth(x, which: str, dim, keepdim):
    """`all`/`any`: bool, or uint8 for a uint8 input, as in PyTorch."""
    dims = reduced_dims(x, dim)
    result = dt.uint8 if x.dtype is dt.uint8 else dt.bool_
    return record(_TRUTH, (x,), reduced_shape(x.shape, dims, keepdim), result.numpy, None,
                  (("which", which), ("dims", dims), ("keepdim", bool(keepdim)), ("dtype", result.numpy)),
                  differentiable=False)


def _logsumexp_fn(x, *, dims, keepdim, dtype):
    x = cast(x, dtype)
    if not x.size:
        return jnp.log(jnp.sum(jnp.exp(x), axis=dims, keepdims=keepdim))
    return jax.nn.logsumexp(x, axis=dims, keepdims=keepdim)


LOGSUMEXP = Op("logsumexp", _logsumexp_fn)


@numpy_keywords
def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x))) over `dim`, computed stably; integers in the default float dtype."""
    result = input.dtype if (input.dtype.is_floating_point or input.dtype.is_complex) else dt.get_default_dtype()
    dims = reduced_dims(input, dim)
    return record(LOGSUMEXP, (input,), reduced_shape(input.shape, dims, keepdim), result.numpy, "LogsumexpBackward0",
                  (("dims", dims), ("keepdim", bool(keepdim)), ("dtype", result.numpy)))


# -- softmax family --------------------------------------------------------------------------------


def _along(function):
    """`function(x, axis=dim)`, where a 0-d `x` is its own one element (dim None)."""
    def apply(x, *, dim, dtype):
        x = cast(x, dtype)
        if not x.size:  # PyTorch runs no kernel (and takes any dtype) on an empty tensor
            return x
        return function(x, axis=dim) if dim is not None else function(x.reshape(1), axis=0).reshape(())

    return apply


SOFTMAX = Op("softmax", _along(jax.nn.softmax))
LOG_SOFTMAX = Op("log_softmax", _along(jax.nn.log_softmax))


def _softmax_dtype(x, dim: int, dtype, kernel: str) -> dt.dtype:
    """The dtype softmax computes in: `dtype`, else the input's, which must be floating."""
    if dtype is not None:
        return dt.as_dtype(dtype)
    if not (x.dtype.is_floating_point or x.dtype.is_complex) and x.numel():  # no kernel runs on an empty tensor
        where = "_lastdim" if dim == builtins.max(x.ndim - 1, 0) else ""
        raise not_implemented(f"{kernel}{where}_kernel_impl", x.dtype)
    return x.dtype


@numpy_keywords
def softmax(x, dim, dtype=None):
    d = wrap_dim(dim, x.ndim)
    result = _softmax_dtype(x, d, dtype, "softmax")
    return record(SOFTMAX, (x,), x.shape, result.numpy, "SoftmaxBackward0", (("dim", d if x.ndim else None), ("dtype", result.numpy)))


@numpy_keywords
def log_softmax(x, dim, dtype=None):
    d = wrap_dim(dim, x.ndim)
    result = _softmax_dtype(x, d, dtype, "log_softmax")
    return record(LOG_SOFTMAX, (x,), x.shape, result.numpy, "LogSoftmaxBackward0",
                  (("dim", d if x.ndim else None), ("dtype", result.numpy)))


# -- PyTorch's signatures --------------------------------------------------------------------------


@numpy_keywords
def max(input, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    return extreme(input, "max", dim, keepdim)


@numpy_keywords
def min(input, dim=None, keepdim=False):  # noqa: A001
    return extreme(input, "min", dim, keepdim)


@numpy_keywords
def amax(input, dim=(), keepdim=False):
    return _amax(input, "amax", dim, keepdim)


@numpy_keywords
def amin(input, dim=(), keepdim=False):
    return _amax(input, "amin", dim, keepdim)


@numpy_keywords
def argmax(input, dim=None, keepdim=False):
    return arg_extreme(input, "argmax", dim, keepdim)


@numpy_keywords
def argmin(input, dim=None, keepdim=False):
    return arg_extreme(input, "argmin", dim, keepdim)


def unbiased_overload(dim, unbiased) -> tuple:
    """(dim, unbiased): PyTorch's `var(input, unbiased)` overload takes a bool in dim's place."""
    return (None, dim) if isinstance(dim, bool) else (dim, unbiased)


@numpy_keywords
def var(input, dim=None, unbiased=True, keepdim=False, *, correction=None):
    dim, unbiased = unbiased_overload(dim, unbiased)
    correction = (1 if unbiased else 0) if correction is None else correction
    return variance(input, dim, correction, keepdim)


@numpy_keywords
def std(input, dim=None, unbiased=True, keepdim=False, *, correction=None):
    dim, unbiased = unbiased_overload(dim, unbiased)
    correction = (1 if unbiased else 0) if correction is None else correction
    return variance(input, dim, correction, keepdim, root=True)


_COUNT_NONZERO = Op("count_nonzero", lambda x, *, dims: jnp.count_nonzero(x, axis=dims).astype(jnp.int64))


@numpy_keywords
def count_nonzero(input, dim=None):
    dims = reduced_dims(input, dim)
    return record(_COUNT_NONZERO, (input,), reduced_shape(input.shape, dims, False), np.dtype(np.int64), None,
                  (("dims", dims),), differentiable=False)


@numpy_keywords
def all(input, dim=None, keepdim=False):  # noqa: A001
    return _truth(input, "all", dim, keepdim)


@numpy_keywords
def any(input, dim=None, keepdim=False):  # noqa: A001
    return _truth(input, "any", dim, keepdim)
