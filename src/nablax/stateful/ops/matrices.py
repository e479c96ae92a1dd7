"""What the `torch.linalg` ops share: recording a JAX function of several outputs as one op,
PyTorch's named result tuples (`torch.return_types.linalg_slogdet(sign=..., logabsdet=...)`),
its checks of matrix arguments and `LinAlgError`, raised for values a factorization cannot
take (a singular matrix, one that is not positive-definite).

    >>> import nablax.stateful as torch
    >>> torch.linalg.slogdet(torch.eye(2)).logabsdet
    tensor(0.)
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ..engine import Op
from ..recording import output, record, record_expr
from ..tensor import Tensor


class _LinAlgError(RuntimeError):  # noqa: N818 - PyTorch's class name (torch._C._LinAlgError)
    """`torch.linalg.LinAlgError`: a matrix whose values the operation cannot take."""


_LinAlgError.__module__ = "torch._C"
LinAlgError = _LinAlgError


class _Named(tuple):
    """A tuple whose items also have names, printed as PyTorch prints its return types."""

    __slots__ = ()
    _name = ""
    _fields: tuple = ()

    def __repr__(self) -> str:
        items = ",\n".join(f"{field}={value!r}" for field, value in zip(self._fields, self))
        return f"torch.return_types.{self._name}(\n{items})"


@functools.lru_cache(maxsize=None)
def return_type(name: str, fields: tuple) -> type:
    """`torch.return_types.<name>`: a tuple with a property per field."""
    properties = {field: property(lambda self, i=index: self[i]) for index, field in enumerate(fields)}
    return type(name, (_Named,), {"__slots__": (), "_name": name, "_fields": fields, "__module__": "torch.return_types",
                                  **properties})


def named(name: str, fields: str, values) -> tuple:
    """`values` as `torch.return_types.<name>` with the space-separated `fields`."""
    return return_type(name, tuple(fields.split()))(values)


@functools.lru_cache(maxsize=2048)
def _outputs(op: Op, static, avals) -> tuple:
    """Whether `op` returns a tuple, and the (shape, dtype) of each output."""
    out = jax.eval_shape(functools.partial(op.fn, **dict(static)), *avals)
    several = isinstance(out, tuple)
    return several, tuple((o.shape, o.dtype) for o in (out if several else (out,)))


def apply(op: Op, operands, grad_name: str | None, static=(), *, constant=()):
    """Records `op` (a JAX function of the operands' arrays, returning one array or a tuple)
    and returns its result as tensors; shapes and dtypes come from JAX's shape rules, and
    the floating outputs carry gradient edges, but those at the positions `constant` (a
    permutation matrix) and all where `grad_name` is None."""
    avals = tuple(jax.ShapeDtypeStruct(o.shape, o.dtype.numpy) if isinstance(o, Tensor) else o for o in operands)
    several, outputs = _outputs(op, tuple(static), avals)
    if not several:
        return record(op, operands, outputs[0][0], outputs[0][1], grad_name, tuple(static),
                      differentiable=grad_name is not None)
    expr, device = record_expr(op, operands, tuple(shape for shape, _ in outputs), None, grad_name, tuple(static))
    differentiable = [grad_name is not None and _floating(dtype) and index not in constant
                      for index, (_, dtype) in enumerate(outputs)]
    return tuple(Tensor._from_expr(output(expr, index, shape, dtype, expr.requires_grad and grad,
                                          grad_name if grad else None), device)
                 for index, ((shape, dtype), grad) in enumerate(zip(outputs, differentiable)))


def _floating(dtype) -> bool:
    return np.issubdtype(dtype, np.inexact)


def check_floating(name: str, *tensors: Tensor) -> None:
    for tensor in tensors:
        if not (tensor.dtype.is_floating_point or tensor.dtype.is_complex):
            raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {tensor.dtype.scalar_name}")


def check_matrix(name: str, A: Tensor, label: str = "A") -> None:  # noqa: N803
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {label} must have at least 2 dimensions.")


def check_square(name: str, A: Tensor, label: str = "A") -> None:  # noqa: N803
    """PyTorch's checks of a batch of square floating matrices."""
    check_matrix(name, A, label)
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: {label} must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    check_floating(name, A)


def check_same_dtype(name: str, A: Tensor, B: Tensor, labels: str = "A B") -> None:  # noqa: N803
    if A.dtype is not B.dtype:
        first, second = labels.split()
        raise RuntimeError(f"{name}: Expected {first} and {second} to have the same dtype, but found {first} of type "
                           f"{A.dtype.scalar_name} and {second} of type {B.dtype.scalar_name} instead")


def checked(result, check_errors: bool, message):
    """`result` (with an `info` field), after `raise_for_info` where `check_errors`."""
    if check_errors:
        raise_for_info(result.info, message)
    return result


def raise_for_info(info: Tensor, message) -> None:
    """Raises `LinAlgError(message(code))` for the first nonzero LAPACK-style `info` code,
    naming the batch element as PyTorch does (reads the codes: PyTorch checks them too)."""
    codes = np.asarray(info.numpy()).reshape(-1)
    bad = np.flatnonzero(codes)
    if bad.size:
        prefix = f"(Batch element {bad[0]}): " if info.ndim else ""
        name, _, text = message(int(codes[bad[0]])).partition(": ")
        raise LinAlgError(f"{name}: {prefix}{text}")


def batch_shape(*shapes) -> tuple:
    """The broadcast batch shape of matrices of `shapes`."""
    return tuple(np.broadcast_shapes(*(tuple(shape[:-2]) for shape in shapes)))


def broadcast_batches(a, b):
    """Arrays `a` and `b` (batches of matrices) with their batch dims broadcast."""
    batch = jnp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return jnp.broadcast_to(a, batch + a.shape[-2:]), jnp.broadcast_to(b, batch + b.shape[-2:])


def matrix_transpose(x):
    return jnp.swapaxes(x, -1, -2)


def symmetric_from_triangle(a, lower: bool = True):
    """The symmetric matrix of `a`'s lower (upper) triangle, as PyTorch's factorizations
    read it, differentiated as the symmetric part of `a` (PyTorch's gradients of them are
    symmetric)."""
    fixed = jax.lax.stop_gradient(a)
    triangle = jnp.tril(fixed) if lower else jnp.triu(fixed)
    symmetric = triangle + matrix_transpose(triangle) - triangle * jnp.eye(a.shape[-1], dtype=a.dtype)
    part = (a + matrix_transpose(a)) / 2
    return symmetric + (part - jax.lax.stop_gradient(part))
