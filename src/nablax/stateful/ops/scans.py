"""Scans along one dim, one row an op: `cumsum`, `cumprod` and `logcumsumexp`, with
PyTorch's dtypes (integers and bools accumulate in int64 unless `dtype=` says otherwise)."""

from __future__ import annotations

import functools
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from .. import dtypes as dt
from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from ..views import wrap_dim
from .common import cast, named, not_implemented, numpy_keywords


class Scan(NamedTuple):
    name: str
    fn: Callable  # fn(x, axis)
    grad_name: str
    integer_kernel: str | None = None  # the kernel that refuses integer inputs; None: they scan in int64


def _logcumsumexp(x, axis):
    return jax.lax.cumlogsumexp(x, axis=axis)


SCANS = [
    Scan("cumsum", jnp.cumsum, "CumsumBackward0"),
    Scan("cumprod", jnp.cumprod, "CumprodBackward0"),
    Scan("logcumsumexp", _logcumsumexp, "LogcumsumexpBackward0", integer_kernel="logcumsumexp_out_cpu"),
]


def _scan_fn(x, *, fn, dim, dtype):
    """The scan along `dim`; a 0-d `x` (dim None) is scanned as its one element."""
    x = cast(x, dtype)
    return fn(x.reshape(-1) if dim is None else x, 0 if dim is None else dim).reshape(x.shape)


def _recorder(row: Scan):
    op = Op(row.name, functools.partial(_scan_fn, fn=row.fn))

    def scan(input: Tensor, dim: int, *, dtype=None) -> Tensor:
        d = wrap_dim(dim, input.ndim)
        floating = input.dtype.is_floating_point or input.dtype.is_complex
        if row.integer_kernel is not None and not floating:
            raise not_implemented(row.integer_kernel, input.dtype)
        result = dt.as_dtype(dtype) if dtype is not None else (input.dtype if floating else dt.int64)
        return record(op, (input,), input.shape, result.numpy, row.grad_name,
                      (("dim", d if input.ndim else None), ("dtype", result.numpy)))

    return numpy_keywords(named(scan, row.name, f"`torch.{row.name}` along `dim`."))


FUNCTIONS = {row.name: _recorder(row) for row in SCANS}
