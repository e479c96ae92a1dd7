"""What the op modules share: PyTorch's scalars, casting to the dtype an op computes in,
broadcasting with PyTorch's error, and NumPy's keyword names."""

from __future__ import annotations

import functools
import inspect

import jax.numpy as jnp
import numpy as np

from ..tensor import Tensor

SCALARS = (bool, int, float, complex, np.number, np.bool_)


def cast(value, dtype):
    """`value` as `dtype`. Bools become numbers through int8: XLA rewrites `x * convert(bool)`
    as `select(bool, x, 0)`, which loses the nan of `inf * False` that PyTorch keeps."""
    if getattr(value, "dtype", None) == dtype:
        return value
    value = jnp.asarray(value)
    if value.dtype == jnp.bool_ and dtype != jnp.bool_:
        value = value.astype(jnp.int8)
    return value.astype(dtype)


def host_cast(value, dtype):
    """`cast` on the host: a NumPy array or a Python number as `dtype` (see engine/host.py)."""
    return np.asarray(value).astype(dtype, copy=False)


def shape_of(value) -> tuple:
    """The shape of a tensor operand; () for a Python scalar."""
    return value.shape if isinstance(value, Tensor) else ()


def broadcast_shapes(a: tuple, b: tuple) -> tuple:
    """NumPy broadcasting, with PyTorch's error message."""
    if a == b:
        return a
    result = []
    for index in range(max(len(a), len(b))):
        size_a = a[len(a) - 1 - index] if index < len(a) else 1
        size_b = b[len(b) - 1 - index] if index < len(b) else 1
        if size_a != size_b and size_a != 1 and size_b != 1:
            dim = max(len(a), len(b)) - 1 - index
            raise RuntimeError(
                f"The size of tensor a ({size_a}) must match the size of tensor b ({size_b}) at non-singleton dimension {dim}"
            )
        result.append(size_a if size_b == 1 else size_b)
    return tuple(reversed(result))


def named(function, name: str, doc: str):
    """`function` under PyTorch's `name` (what its repr and Python's errors show), with `doc`."""
    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    return function


def not_implemented(kernel: str, dtype) -> NotImplementedError:
    """PyTorch's error for a kernel that has no implementation for `dtype`."""
    return NotImplementedError(f'"{kernel}" not implemented for \'{dtype.scalar_name}\'')


_NUMPY_NAMES = (("axis", "dim"), ("keepdims", "keepdim"))


def numpy_keywords(function):
    """`function`, also taking NumPy's names `axis=` and `keepdims=` for its `dim` and
    `keepdim`, as PyTorch's functions and methods do (a name given both ways is refused
    with PyTorch's error)."""
    parameters = list(inspect.signature(function).parameters)
    positions = {alias: parameters.index(name) for alias, name in _NUMPY_NAMES if name in parameters}

    @functools.wraps(function)
    def apply(*args, **kwargs):
        if "axis" in kwargs or "keepdims" in kwargs:
            for alias, name in _NUMPY_NAMES:
                if alias not in kwargs:
                    continue
                if alias not in positions or name in kwargs or len(args) > positions[alias]:
                    raise TypeError(f"{function.__name__}() got an unexpected keyword argument '{alias}'")
                kwargs[name] = kwargs.pop(alias)
        return function(*args, **kwargs)

    return apply
