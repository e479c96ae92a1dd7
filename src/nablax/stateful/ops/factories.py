"""More ways to make tensors: the `new_*` methods (a tensor's dtype and device by default),
`empty_strided`, `empty_permuted`, `scalar_tensor`, `logspace` and `fill`.

nablax has one layout, so `empty_strided`'s strides and `empty_permuted`'s physical order
only say how PyTorch would lay the tensor out: the result has PyTorch's shape and dtype,
and unspecified values (zeros here).

    >>> import nablax.stateful as torch
    >>> torch.ones(2, dtype=torch.int64).new_full((3,), 7).tolist()
    [7, 7, 7]
    >>> torch.logspace(0, 2, 3).tolist()
    [1.0, 10.0, 100.0]
"""

from __future__ import annotations

import jax.numpy as jnp

from .. import dtypes as dt
from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from . import copies, creation
from .creation import finish, non_cpu_device, size_argument


def _new(fill):
    def new(self: Tensor, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
        return creation.full(size_argument(size), fill, dtype=dtype or self.dtype, device=device or non_cpu_device(self),
                             requires_grad=requires_grad, layout=layout)

    return new


new_zeros, new_ones, new_empty = _new(0), _new(1), _new(0)


def new_full(self: Tensor, size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
             pin_memory=False) -> Tensor:
    """A tensor of `size` holding `fill_value`, of this tensor's dtype and device unless given."""
    return creation.full(size_argument((size,)), fill_value, dtype=dtype or self.dtype, device=device or non_cpu_device(self),
                         requires_grad=requires_grad, layout=layout)


def new_empty_strided(self: Tensor, size, stride, *, dtype=None, device=None, requires_grad=False, layout=None,
                      pin_memory=False) -> Tensor:
    return empty_strided(size, stride, dtype=dtype or self.dtype, device=device or non_cpu_device(self),
                         requires_grad=requires_grad, layout=layout)


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False) -> Tensor:
    """A tensor of `size` (values unspecified: zeros); `stride` is PyTorch's memory layout."""
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride):
        raise RuntimeError(f"dimensionality of sizes ({len(size)}) must match dimensionality of strides ({len(stride)})")
    return creation.empty(size_argument((size,)), dtype=dtype, device=device, requires_grad=requires_grad, layout=layout)


def empty_permuted(size, physical_layout, *, dtype=None, device=None, requires_grad=False, layout=None,
                   pin_memory=False) -> Tensor:
    """A tensor of `size` (values unspecified: zeros); `physical_layout` is PyTorch's order of
    its dims in memory."""
    size, order = tuple(size), tuple(physical_layout)
    if len(size) != len(order):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the physical_layout; i.e. "
                           f"len(size) = {len(size)} is not equal to len(physical_layout) = {len(order)}")
    for index, d in enumerate(order):
        if not 0 <= d < len(order):
            raise RuntimeError(f"Dimension out of range (expected to be between 0 and {len(order) - 1}, but got {d} at "
                               f"index {index}).  NB: negative dims not currently supported; file an issue if you want it.")
    if len(set(order)) != len(order):
        raise RuntimeError("Duplicate dim not allowed")
    return creation.empty(size_argument((size,)), dtype=dtype, device=device, requires_grad=requires_grad, layout=layout)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False) -> Tensor:
    """A 0-d tensor holding the number `s` (of the default float dtype unless given)."""
    if isinstance(s, Tensor):
        s = s.item()
    return creation.full((), s, dtype=dtype or dt.get_default_dtype(), device=device, requires_grad=requires_grad,
                         layout=layout)


def _logspace_fn(start, end, *, steps, base, dtype):
    """`base ** x` at `steps` points `x` from `start` to `end`, the second half counted back
    from `end` as PyTorch's kernel does (so the last point is `base ** end` exactly)."""
    if steps == 1:
        return jnp.power(base, jnp.full((1,), start, jnp.float64)).astype(dtype)
    step = (end - start) / (steps - 1)
    index = jnp.arange(steps)
    exponent = jnp.where(index < steps // 2, start + step * index, end - step * (steps - index - 1))
    return jnp.power(jnp.float64(base), exponent).astype(dtype)


_LOGSPACE = Op("logspace", _logspace_fn)


def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None, requires_grad=False,
             layout=None) -> Tensor:
    """`steps` powers of `base`, their exponents evenly spaced from `start` to `end`."""
    start, end = (v.item() if isinstance(v, Tensor) else v for v in (start, end))
    dtype = dt.as_dtype(dtype) if dtype is not None else dt.get_default_dtype()
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    if not (dtype.is_floating_point or dtype.is_complex):  # PyTorch's kernel holds the bounds in the dtype
        start, end = int(start), int(end)
    tensor = record(_LOGSPACE, (float(start), float(end)), (int(steps),), dtype.numpy, None,
                    (("steps", int(steps)), ("base", float(base)), ("dtype", dtype.numpy)))
    return finish(tensor, device, requires_grad, layout)


def fill(input: Tensor, value) -> Tensor:
    """A tensor of `input`'s shape and dtype holding `value` (a number or a 0-d tensor)."""
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} dimensions.")
    return copies.overwrite(input, value, "FillBackward0")


FUNCTIONS = {function.__name__: function for function in (empty_strided, empty_permuted, scalar_tensor, logspace, fill)}
METHODS = {"new_zeros": new_zeros, "new_ones": new_ones, "new_empty": new_empty, "new_full": new_full,
           "new_empty_strided": new_empty_strided}
