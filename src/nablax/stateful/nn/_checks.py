"""Helpers shared by the layers of `nn.functional`: PyTorch's wording of sizes and dtypes in
messages, its dtype checks, values already known (for PyTorch's checks of indices), the
calling of a pure function with optional operands, and the outputs of multi-output ops
(a pool with its indices), and ops whose result's shape is found by tracing their function."""

from __future__ import annotations

import functools

import jax
import numpy as np

from .. import engine
from ..recording import output, record, record_expr
from ..tensor import Tensor


def is_int(value) -> bool:
    """True for Python and NumPy ints, but not for bools."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def known_value(tensor: Tensor):
    """The tensor's value if it is already computed and concrete, else None: pending, or a
    tracer (the module runs inside `jax.jit`, through `to_functional`)."""
    value = engine.strip(tensor._current_expr()).value
    return None if value is None or isinstance(value, jax.core.Tracer) else value


def sizes(shape) -> str:
    """A shape as PyTorch's C++ messages write it: `[2, 3, 8, 8]`."""
    return "[" + ", ".join(str(size) for size in shape) + "]"


def not_implemented(kernel: str, tensor: Tensor) -> NotImplementedError:
    """PyTorch's error for a kernel that has no implementation for the tensor's dtype."""
    return NotImplementedError(f'"{kernel}" not implemented for \'{tensor.dtype.scalar_name}\'')


def require_floating(kernel: str, tensor: Tensor) -> None:
    if not tensor.dtype.is_floating_point:
        raise not_implemented(kernel, tensor)


def check_parameter_dtypes(input: Tensor, *parameters: Tensor | None) -> None:
    """PyTorch's CPU rule for normalisation layers: parameters (and running statistics) have
    the input's dtype. Its message depends on whether the input is float32."""
    if any(p is not None and p.dtype is not input.dtype for p in parameters):
        if input.dtype.name == "float32":
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
        raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")


def reject_unsupported(who: str, **options) -> None:
    """Raises for options (name=(value, default)) that PyTorch has and nablax has not: a
    clear error rather than numbers computed some other way."""
    for name, (value, default) in options.items():
        if value != default:
            raise NotImplementedError(f"{who}: {name}={value!r} is not supported by nablax (only {name}={default!r})")


def padding_index(padding_idx: int | None, num_embeddings: int) -> int | None:
    """An embedding's `padding_idx` counted from the start, after PyTorch's range check."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings and padding_idx != 0:
        raise AssertionError("Padding_idx must be within num_embeddings")
    return int(padding_idx) + num_embeddings if padding_idx < 0 else int(padding_idx)


def optional_operands(**named) -> tuple[tuple, tuple]:
    """The operands that are given (not None) and the `present` static argument that
    `with_optional` needs to pass them back under their names."""
    return tuple(value for value in named.values() if value is not None), tuple(
        (name, value is not None) for name, value in named.items()
    )


def with_optional(fn, required: int):
    """`fn` called with its first `required` operands positionally and the rest as keywords
    named by the static `present` (missing ones as None), so that one recorded op covers
    every combination of optional weight, bias and running statistics."""

    def call(*operands, present, **static):
        given = iter(operands[required:])
        keywords = {name: next(given) if is_given else None for name, is_given in present}
        return fn(*operands[:required], **keywords, **static)

    call.__name__ = getattr(fn, "__name__", "call")
    return call


def record_pool(op: engine.Op, input: Tensor, shape: tuple, grad_name: str, static, return_indices: bool = False):
    """Records the pooling `op` over `input`. With `return_indices`, its function returns
    (values, int64 indices) of the same `shape`, returned as two tensors: the values with
    the input's dtype and gradient edges, the indices without."""
    shape = tuple(shape)
    if not return_indices:
        return record(op, (input,), shape, input.dtype.numpy, grad_name, static)
    static = static + (("return_indices", True),)
    expr, device = record_expr(op, (input,), (shape, shape), None, grad_name, static)
    values = output(expr, 0, shape, input.dtype.numpy, expr.requires_grad, grad_name)
    indices = output(expr, 1, shape, np.dtype(np.int64), False, None)
    return Tensor._from_expr(values, device), Tensor._from_expr(indices, device)


@functools.lru_cache(maxsize=1024)
def _traced_result(op: engine.Op, static, avals: tuple):
    out = jax.eval_shape(functools.partial(op.fn, **dict(static)), *avals)
    return out.shape, np.dtype(out.dtype)


def record_traced(op: engine.Op, operands: tuple, grad_name: str | None, static=(), *, differentiable=True) -> Tensor:
    """Records `op` over tensor `operands`, its result's shape and dtype found by tracing
    its function once per static arguments and operand shapes (after PyTorch's checks, so
    a bad input has been refused with PyTorch's message already)."""
    avals = tuple(jax.ShapeDtypeStruct(tuple(o.shape), o.dtype.numpy) for o in operands)
    shape, dtype = _traced_result(op, static, avals)
    return record(op, operands, shape, dtype, grad_name, static, differentiable=differentiable)
