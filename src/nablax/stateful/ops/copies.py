"""Copies: `cat`, `stack`, `clone`, `contiguous`, dtype conversion and the overwrite behind
fills and `copy_`."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .. import dtypes as dt
from .. import views
from ..device import as_device
from ..engine import Op
from ..layouts import check_memory_format
from ..recording import record
from ..tensor import Tensor
from ..views import wrap_dim
from .common import cast, host_cast, named

CONCATENATE = Op("cat", lambda *xs, dim, dtype: jnp.concatenate([x.astype(dtype) for x in xs], axis=dim), saves=False)
STACK = Op("stack", lambda *xs, dim, dtype: jnp.stack([x.astype(dtype) for x in xs], axis=dim), saves=False)


def cat(tensors, dim: int = 0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for number, tensor in enumerate(tensors):
        if tensor.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {number}) cannot be concatenated")
    reference = next((t for t in tensors if t.shape != (0,)), None)
    if reference is None:  # only legacy empty tensors: PyTorch checks no dim
        reference, d = tensors[0], 0
    else:
        d = wrap_dim(dim, reference.ndim)
    for number, tensor in enumerate(tensors):
        if tensor.shape == (0,):
            continue
        if tensor.ndim != reference.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {reference.ndim} and {tensor.ndim}"
            )
        for axis, (a, b) in enumerate(zip(reference.shape, tensor.shape)):
            if axis != d and a != b:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {a} but got size {b} for tensor "
                    f"number {number} in the list."
                )
    parts = [t for t in tensors if t.shape != (0,)] or tensors[:1]
    result = dt.result_type(*[_as_dimensioned(t) for t in tensors])  # skipped empty tensors still promote
    shape = list(reference.shape)
    shape[d] = sum(t.shape[d] for t in parts)
    return record(CONCATENATE, tuple(parts), tuple(shape), result.numpy, "CatBackward0", (("dim", d), ("dtype", result.numpy)))


class _Dimensioned:
    """A stand-in with ndim 1, so that cat/stack promote every input as a tensor with dims."""

    __slots__ = ("dtype", "ndim")

    def __init__(self, dtype):
        self.dtype, self.ndim = dtype, 1


def _as_dimensioned(tensor):
    return _Dimensioned(tensor.dtype)


def stack(tensors, dim: int = 0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    d = wrap_dim(dim, tensors[0].ndim + 1)
    for number, tensor in enumerate(tensors[1:], start=1):
        if tensor.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got [{', '.join(map(str, tensors[0].shape))}] at entry 0 "
                f"and [{', '.join(map(str, tensor.shape))}] at entry {number}"
            )
    result = dt.result_type(*[_as_dimensioned(t) for t in tensors])
    shape = tensors[0].shape[:d] + (len(tensors),) + tensors[0].shape[d:]
    return record(STACK, tuple(tensors), shape, result.numpy, "StackBackward0", (("dim", d), ("dtype", result.numpy)))


COPY = Op("clone", lambda x: jnp.array(x, copy=True), saves=False, host=lambda x: np.array(x, copy=True))
CAST = Op("to", lambda x, *, dtype: cast(x, dtype), saves=False, host=host_cast)


OVERWRITE = Op("overwrite", lambda old, new: jnp.broadcast_to(new, old.shape).astype(old.dtype), saves=False,
               host=lambda old, new: np.broadcast_to(new, old.shape).astype(old.dtype))


def overwrite(x: Tensor, value, grad_name: str):
    """`value` (broadcast, cast) as the new value of `x`, in one node that takes `x` too:
    PyTorch's fills and copies keep `x`'s `requires_grad`, its old value getting a zero
    gradient."""
    return record(OVERWRITE, (x, value), x.shape, x.dtype.numpy, grad_name,
                  differentiable=x.dtype.is_floating_point or x.dtype.is_complex)


def clone(x: Tensor, *, memory_format=None):
    """A copy of `x` on a storage of its own (every `memory_format` gives the one layout)."""
    check_memory_format(memory_format, "clone", x.ndim)
    return record(COPY, (x,), x.shape, x.dtype.numpy, "CloneBackward0")


def contiguous(x: Tensor, memory_format=None):
    check_memory_format(memory_format, "contiguous", x.ndim)
    return x if views.is_contiguous(x.shape, x._strides) else clone(x)


def to_dtype(x: Tensor, dtype: dt.dtype, copy: bool = False):
    if dtype is x.dtype and not copy:
        return x
    return record(CAST, (x,), x.shape, dtype.numpy, "ToCopyBackward0", (("dtype", dtype.numpy),),
                  differentiable=dtype.is_floating_point or dtype.is_complex)


def to(self: Tensor, *args, **kwargs) -> Tensor:
    """`to(dtype)`, `to(device)`, `to(device, dtype)`, `to(other)` (each with the flags
    `non_blocking` and `copy` after it), or keywords."""
    target_device, target_dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    check_memory_format(kwargs.pop("memory_format", None), "to", self.ndim)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    flags = [arg for arg in args if isinstance(arg, bool)]  # positional non_blocking, then copy
    if len(flags) > 1:
        copy = flags[1]
    for arg in args:
        if isinstance(arg, bool):
            continue
        if isinstance(arg, Tensor):
            target_device, target_dtype = arg.device, arg.dtype
        elif isinstance(arg, dt.dtype) or arg in (float, int, bool):
            target_dtype = dt.as_dtype(arg)
        else:
            target_device = arg
    result = self
    if target_dtype is not None:
        result = to_dtype(result, dt.as_dtype(target_dtype), copy)
    if target_device is not None:
        result = result._to_device(as_device(target_device))
    return result


def _converter(dtype: dt.dtype, name: str):
    def convert(self: Tensor, memory_format=None) -> Tensor:
        check_memory_format(memory_format, name, self.ndim)
        return to_dtype(self, dtype)

    return named(convert, name, f"`self.to({dtype!r})`.")


CONVERSIONS = {name: _converter(dtype, name) for name, dtype in (
    ("float", dt.float32), ("double", dt.float64), ("half", dt.float16), ("bfloat16", dt.bfloat16), ("long", dt.int64),
    ("int", dt.int32), ("short", dt.int16), ("char", dt.int8), ("byte", dt.uint8), ("bool", dt.bool_))}
