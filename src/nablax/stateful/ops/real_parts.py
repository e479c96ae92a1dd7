"""The complex-number ops on real tensors: `real`, `conj`, `conj_physical`, `resolve_conj`,
`resolve_neg` (the tensor itself, as in PyTorch), `isreal` (true everywhere) and `angle`
(0 for non-negative numbers, pi for negative ones, nan for nan).

    >>> import nablax.stateful as torch
    >>> torch.angle(torch.tensor([-2.0, 3.0])).tolist()
    [3.1415927410125732, 0.0]
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from .. import dtypes as dt
from ..engine import Op
from ..recording import record
from ..tensor import Tensor
from . import creation


def _itself(name: str, doc: str):
    def itself(input: Tensor) -> Tensor:
        if input.dtype.is_complex:
            raise NotImplementedError(f"{name}: nablax.stateful has no complex tensors")
        return input

    itself.__name__ = itself.__qualname__ = name
    itself.__doc__ = doc
    return itself


real = _itself("real", "The real part: a real tensor itself.")
conj = _itself("conj", "The complex conjugate: a real tensor itself.")
conj_physical = _itself("conj_physical", "The complex conjugate, computed: a real tensor itself.")
resolve_conj = _itself("resolve_conj", "A tensor with its conjugate bit resolved: a real tensor has none.")
resolve_neg = _itself("resolve_neg", "A tensor with its negative bit resolved: a real tensor has none.")


def isreal(input: Tensor) -> Tensor:
    """Where the imaginary part is zero: everywhere for a real tensor."""
    return creation.full(input.shape, True, dtype=dt.bool_, device=creation.non_cpu_device(input))


def _angle_fn(x, *, dtype):
    x = jax.lax.stop_gradient(x.astype(dtype))  # PyTorch's gradient of the angle of reals is zero
    return jnp.where(jnp.isnan(x), x, jnp.where(x < 0, jnp.asarray(math.pi, dtype), jnp.zeros((), dtype)))


_ANGLE = Op("angle", _angle_fn)


def angle(input: Tensor) -> Tensor:
    """The argument of each number: pi where negative, else 0 (nan for nan); integers give
    the default float dtype."""
    result = input.dtype if input.dtype.is_floating_point else dt.get_default_dtype()
    return record(_ANGLE, (input,), input.shape, result.numpy, "AngleBackward0", (("dtype", result.numpy),),
                  differentiable=input.dtype.is_floating_point)


FUNCTIONS = {function.__name__: function for function in (real, conj, conj_physical, resolve_conj, resolve_neg, isreal,
                                                           angle)}
METHODS = dict(FUNCTIONS)
