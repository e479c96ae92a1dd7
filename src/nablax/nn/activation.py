"""Activations, each as a plain function and as a layer, computing what `torch.nn.functional`
computes, gradients at the kinks included (GELU is exact by default, as in PyTorch). Only
PReLU has parameters: its learned slopes."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._spatial import check_positive_int
from .layer import Layer, Params, check_params


def relu(x: jax.Array) -> jax.Array:
    """max(x, 0); its gradient at 0 is 0, as in PyTorch."""
    return jax.nn.relu(x)


def sigmoid(x: jax.Array) -> jax.Array:
    """1 / (1 + exp(-x))."""
    return jax.nn.sigmoid(x)


def tanh(x: jax.Array) -> jax.Array:
    """The hyperbolic tangent."""
    return jnp.tanh(x)


def leaky_relu(x: jax.Array, negative_slope: float = 0.01) -> jax.Array:
    """x where x > 0, else negative_slope * x; its gradient at 0 is negative_slope, as in PyTorch
    (`jax.nn.leaky_relu` gives 1 there).

        >>> import jax, jax.numpy as jnp
        >>> leaky_relu(jnp.array([-2.0, 0.0, 3.0]), 0.5).tolist(), float(jax.grad(leaky_relu)(0.0, 0.5))
        ([-1.0, 0.0, 3.0], 0.5)
    """
    return jnp.where(x > 0, x, x * negative_slope)


def elu(x: jax.Array, alpha: float = 1.0) -> jax.Array:
    """x where x > 0, else alpha * (exp(x) - 1); its gradient at 0 is alpha, as in PyTorch."""
    # expm1 of a large x overflows; keep it out of the unused branch, whose inf gradient would
    # otherwise become NaN through `where`.
    return jnp.where(x > 0, x, alpha * jnp.expm1(jnp.where(x > 0, jnp.zeros_like(x), x)))


def silu(x: jax.Array) -> jax.Array:
    """x * sigmoid(x), also called swish."""
    return jax.nn.silu(x)


def softplus(x: jax.Array, beta: float = 1.0, threshold: float = 20.0) -> jax.Array:
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold, as in PyTorch.

        >>> import jax.numpy as jnp
        >>> softplus(jnp.array([0.0, 30.0])).tolist()
        [0.693147..., 30.0]
    """
    scaled = x * beta
    linear_part = scaled > threshold
    # exp overflows where the linear part is taken; feed it zeros there so that the unused
    # branch's inf/inf gradient cannot turn into NaN through `where`.
    safe = jnp.where(linear_part, jnp.zeros_like(scaled), scaled)
    return jnp.where(linear_part, x, jnp.log1p(jnp.exp(safe)) / beta)


def _check_approximate(approximate: str) -> None:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def gelu(x: jax.Array, approximate: str = "none") -> jax.Array:
    """x * Phi(x), exactly (`approximate='none'`, PyTorch's default) or by the tanh formula."""
    _check_approximate(approximate)
    return jax.nn.gelu(x, approximate=approximate == "tanh")


def softmax(x: jax.Array, dim: int = -1) -> jax.Array:
    """exp(x) / sum(exp(x)) along `dim`."""
    return jax.nn.softmax(x, axis=dim)


def log_softmax(x: jax.Array, dim: int = -1) -> jax.Array:
    """log(softmax(x)) along `dim`, computed stably."""
    return jax.nn.log_softmax(x, axis=dim)


def _constant(value, like: jax.Array) -> np.ndarray:
    """`value` in `like`'s dtype (an integer input keeps integer bounds, as in PyTorch)."""
    return np.array(value, like.dtype)


def hardtanh(x: jax.Array, min_val: float = -1.0, max_val: float = 1.0) -> jax.Array:
    """x clipped to [min_val, max_val]; its gradient is 0 at the bounds, as in PyTorch (a
    clip's gradient there would be 1/2 in JAX).

        >>> import jax, jax.numpy as jnp
        >>> hardtanh(jnp.array([-2.0, 0.5, 3.0])).tolist(), float(jax.grad(hardtanh)(1.0))
        ([-1.0, 0.5, 1.0], 0.0)
    """
    low, high = _constant(min_val, x), _constant(max_val, x)
    return jnp.where(x <= low, low, jnp.where(x >= high, high, x))


def relu6(x: jax.Array) -> jax.Array:
    """min(max(x, 0), 6): `hardtanh(x, 0, 6)`."""
    return hardtanh(x, 0.0, 6.0)


def softsign(x: jax.Array) -> jax.Array:
    """x / (1 + |x|)."""
    return x / (1 + jnp.abs(x))


def hardsigmoid(x: jax.Array) -> jax.Array:
    """relu6(x + 3) / 6, whose gradient is 1/6 strictly between -3 and 3 and 0 elsewhere."""
    return jnp.where(x <= -3, jnp.zeros_like(x), jnp.where(x >= 3, jnp.ones_like(x), (x + 3) / 6))


def hardswish(x: jax.Array) -> jax.Array:
    """x * relu6(x + 3) / 6; its gradient is 0 at -3 and 1 at 3, as in PyTorch."""
    return jnp.where(x <= -3, jnp.zeros_like(x), jnp.where(x < 3, x * (x + 3) / 6, x))


def mish(x: jax.Array) -> jax.Array:
    """x * tanh(softplus(x))."""
    return x * jnp.tanh(jax.nn.softplus(x))


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(x: jax.Array) -> jax.Array:
    """scale * elu(x, alpha) with the self-normalising constants `SELU_SCALE` and `SELU_ALPHA`."""
    return SELU_SCALE * elu(x, SELU_ALPHA)


def celu(x: jax.Array, alpha: float = 1.0) -> jax.Array:
    """x where x > 0, else alpha * (exp(x / alpha) - 1); its gradient at 0 is 1."""
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0")
    return jnp.where(x > 0, x, alpha * jnp.expm1(jnp.where(x > 0, jnp.zeros_like(x), x) / alpha))


def logsigmoid(x: jax.Array) -> jax.Array:
    """log(sigmoid(x)), computed stably."""
    return jax.nn.log_sigmoid(x)


def threshold(x: jax.Array, threshold: float, value: float) -> jax.Array:
    """x where x > threshold, else value.

        >>> import jax.numpy as jnp
        >>> threshold(jnp.array([0.5, 2.0]), 1.0, -5.0).tolist()
        [-5.0, 2.0]
    """
    return jnp.where(x > _constant(threshold, x), x, _constant(value, x))


def softmin(x: jax.Array, dim: int = -1) -> jax.Array:
    """softmax(-x) along `dim`."""
    return jax.nn.softmax(-x, axis=dim)


def prelu(x: jax.Array, weight: jax.Array) -> jax.Array:
    """x where x > 0, else weight * x, with one learned slope (`weight` of shape [1]) or one
    per channel (axis 1 of the input; [C]).

        >>> import jax.numpy as jnp
        >>> prelu(jnp.array([[-2.0, 3.0]]), jnp.array([0.25])).tolist()
        [[-0.5, 3.0]]
    """
    weight = jnp.asarray(weight)
    channels = x.shape[1] if x.ndim >= 2 else 1
    if weight.ndim > 1 or weight.size not in (1, channels):
        raise ValueError(
            f"prelu: weight must hold 1 slope or one per channel ({channels}, along axis 1 of the input), got a weight "
            f"of shape {weight.shape} for an input of shape {x.shape}"
        )
    if weight.size > 1:
        weight = weight.reshape((-1,) + (1,) * (x.ndim - 2))
    else:
        weight = weight.reshape(())
    return jnp.where(x > 0, x, weight * x)


class _Activation(Layer):
    """A parameter-free layer that applies one elementwise function, called with the
    layer's fields as keyword arguments."""

    _function = None

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        fields = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        return type(self)._function(x, **fields)


REQUIRED = dataclasses.MISSING  # a field without a default


def _activation(name: str, function, doc: str, check=None, **fields) -> type:
    """A frozen layer class `name` (an `_Activation`) applying `function`; `fields` maps each
    of its fields, in order, to a default (or `REQUIRED`), and `check(layer)` validates a new
    layer."""
    namespace = {"_function": staticmethod(function), "__doc__": doc, "__module__": __name__}
    if check is not None:
        namespace["__post_init__"] = check
    spec = [(field, Any, dataclasses.field(default=default)) for field, default in fields.items()]
    return dataclasses.make_dataclass(name, spec, bases=(_Activation,), namespace=namespace, frozen=True, repr=False)


def _check_gelu(layer) -> None:
    _check_approximate(layer.approximate)


def _check_hardtanh(layer) -> None:
    if layer.max_val <= layer.min_val:
        raise ValueError(f"Hardtanh: max_val ({layer.max_val}) must be greater than min_val ({layer.min_val})")


def _check_celu(layer) -> None:
    if layer.alpha == 0:
        raise ValueError("CELU: alpha cannot be 0")


# One row a layer: its name (PyTorch's), its function, its doc and its fields with PyTorch's defaults.
ReLU = _activation("ReLU", relu, "`torch.nn.ReLU`.")
Sigmoid = _activation("Sigmoid", sigmoid, "`torch.nn.Sigmoid`.")
Tanh = _activation("Tanh", tanh, "`torch.nn.Tanh`.")
LeakyReLU = _activation("LeakyReLU", leaky_relu, "`torch.nn.LeakyReLU(negative_slope=0.01)`.", negative_slope=0.01)
ELU = _activation("ELU", elu, "`torch.nn.ELU(alpha=1.0)`.", alpha=1.0)
SiLU = _activation("SiLU", silu, "`torch.nn.SiLU`.")
Softplus = _activation("Softplus", softplus, """`torch.nn.Softplus(beta=1.0, threshold=20.0)`.

        >>> Softplus(beta=2.0)
        Softplus(beta=2.0, threshold=20.0)
    """, beta=1.0, threshold=20.0)
GELU = _activation("GELU", gelu, "`torch.nn.GELU(approximate='none')`.", _check_gelu, approximate="none")
Softmax = _activation("Softmax", softmax, "`torch.nn.Softmax(dim)`; `dim` defaults to the last axis.", dim=-1)
LogSoftmax = _activation("LogSoftmax", log_softmax, "`torch.nn.LogSoftmax(dim)`; `dim` defaults to the last axis.",
                         dim=-1)
Hardtanh = _activation("Hardtanh", hardtanh, """`torch.nn.Hardtanh(min_val=-1.0, max_val=1.0)`.

        >>> Hardtanh(-2.0, 2.0)
        Hardtanh(min_val=-2.0, max_val=2.0)
    """, _check_hardtanh, min_val=-1.0, max_val=1.0)
ReLU6 = _activation("ReLU6", relu6, "`torch.nn.ReLU6`: `Hardtanh(0, 6)`.")
Softsign = _activation("Softsign", softsign, "`torch.nn.Softsign`.")
Hardsigmoid = _activation("Hardsigmoid", hardsigmoid, "`torch.nn.Hardsigmoid`.")
Hardswish = _activation("Hardswish", hardswish, "`torch.nn.Hardswish`.")
Mish = _activation("Mish", mish, "`torch.nn.Mish`.")
SELU = _activation("SELU", selu, "`torch.nn.SELU`.")
CELU = _activation("CELU", celu, "`torch.nn.CELU(alpha=1.0)`.", _check_celu, alpha=1.0)
LogSigmoid = _activation("LogSigmoid", logsigmoid, "`torch.nn.LogSigmoid`.")
Threshold = _activation("Threshold", threshold, "`torch.nn.Threshold(threshold, value)`: x where x > threshold, else "
                        "value.", threshold=REQUIRED, value=REQUIRED)
Softmin = _activation("Softmin", softmin, "`torch.nn.Softmin(dim)`; `dim` defaults to the last axis.", dim=-1)


@dataclasses.dataclass(frozen=True, repr=False, init=False)
class PReLU(Layer):
    """`torch.nn.PReLU(num_parameters=1, init=0.25)`: leaky ReLU with learned slopes, one
    shared or one per channel; its `weight` starts at `init` everywhere.

        >>> layer = PReLU(3)
        >>> layer, layer.init(0)["weight"].tolist()
        (PReLU(num_parameters=3), [0.25, 0.25, 0.25])
    """

    num_parameters: int = 1
    init_value: float = dataclasses.field(default=0.25, repr=False)
    dtype: Any = dataclasses.field(default=jnp.float32, repr=False)

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype=jnp.float32):
        # PyTorch's argument is named `init`, which is the layer protocol's method here.
        check_positive_int(num_parameters, "num_parameters", "PReLU")
        for name, value in (("num_parameters", num_parameters), ("init_value", init), ("dtype", dtype)):
            object.__setattr__(self, name, value)

    def init(self, key) -> Params:
        del key  # a constant start, as in PyTorch
        return {"weight": jnp.full((self.num_parameters,), self.init_value, self.dtype)}

    def apply(self, params: Params, x: jax.Array, *, key=None, train: bool = False) -> jax.Array:
        check_params(self, params, {"weight": (self.num_parameters,)})
        return prelu(x, params["weight"])
