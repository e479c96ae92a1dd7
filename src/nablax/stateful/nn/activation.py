"""More activation modules of `torch.nn` (`Hardtanh`, `ReLU6`, `PReLU`, `Mish`, `GLU`, ...), each a
thin `Module` over `nn.functional` with PyTorch's constructor, attributes and repr."""

from __future__ import annotations

import warnings

from ... import nn as pure
from ..engine import no_grad
from . import functional as F
from ._initial import initial_parameters
from .layers import _numpy_dtype, _register_parameters
from .module import Module
from .modules import _inplace_text


class _Activation(Module):
    """`forward` calls `_functional` with the input and the attributes named in `_arguments`."""

    _functional = None
    _arguments: tuple[str, ...] = ()

    def forward(self, input):
        return type(self)._functional(input, *(getattr(self, name) for name in self._arguments))


class _InPlace(_Activation):
    """An activation whose only option is `inplace`."""

    _arguments = ("inplace",)

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace


class _InPlaceShown(_InPlace):
    """An activation whose repr shows `inplace=True` when set."""

    def extra_repr(self) -> str:
        return _inplace_text(self.inplace, separator="")


def _module(name: str, functional, doc: str, base: type = _Activation) -> type:
    """A module class `name` whose forward pass is `functional` (one row of the table below)."""
    return type(name, (base,), {"_functional": staticmethod(functional), "__doc__": doc, "__module__": __name__})


# The activations that differ only in their function (and in whether they take `inplace`).
Softsign = _module("Softsign", F.softsign, "x / (1 + |x|).")
LogSigmoid = _module("LogSigmoid", F.logsigmoid, "log(sigmoid(x)).")
Hardsigmoid = _module("Hardsigmoid", F.hardsigmoid, "relu6(x + 3) / 6 (PyTorch's repr shows no `inplace`).", _InPlace)
Hardswish = _module("Hardswish", F.hardswish, "x * relu6(x + 3) / 6 (PyTorch's repr shows no `inplace`).", _InPlace)
Mish = _module("Mish", F.mish, "x * tanh(softplus(x)).", _InPlaceShown)
SELU = _module("SELU", F.selu, "scale * elu(x, alpha) with the self-normalising constants.", _InPlaceShown)
Tanhshrink = _module("Tanhshrink", F.tanhshrink, "x - tanh(x).")


class _Shrink(_Activation):
    """A shrinkage towards zero by `lambd`."""

    _arguments = ("lambd",)

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def extra_repr(self) -> str:
        return str(self.lambd)


Hardshrink = _module("Hardshrink", F.hardshrink, "x where |x| > lambd, else 0.", _Shrink)
Softshrink = _module("Softshrink", F.softshrink, "x shrunk towards 0 by lambd, and 0 within lambd of it.", _Shrink)


class GLU(_Activation):
    """a * sigmoid(b), for a and b the halves of the input along `dim`."""

    _functional = staticmethod(F.glu)
    _arguments = ("dim",)

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class RReLU(Module):
    """leaky_relu with slopes drawn from [lower, upper] in training, their mean in evaluation."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}{_inplace_text(self.inplace)}"


def _renamed(value, old_value, old: str, new: str):
    """`value`, or the value given under the deprecated keyword `old`, with PyTorch's warning."""
    if old_value is None:
        return value
    warnings.warn(f"keyword argument `{old}` is deprecated and renamed to `{new}`", FutureWarning, stacklevel=3)
    return old_value


class Hardtanh(_Activation):
    """x clipped to [min_val, max_val]."""

    _functional = staticmethod(F.hardtanh)
    _arguments = ("min_val", "max_val", "inplace")

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None):
        super().__init__()
        self.min_val = _renamed(min_val, min_value, "min_value", "min_val")
        self.max_val = _renamed(max_val, max_value, "max_value", "max_val")
        self.inplace = inplace
        if self.max_val <= self.min_val:
            raise AssertionError(f"max_val ({self.max_val}) must be greater than min_val ({self.min_val})")

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_text(self.inplace)}"


class ReLU6(Hardtanh):
    """min(max(x, 0), 6)."""

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return _inplace_text(self.inplace, separator="")


class Threshold(_Activation):
    """x where x > threshold, else value."""

    _functional = staticmethod(F.threshold)
    _arguments = ("threshold", "value", "inplace")

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}{_inplace_text(self.inplace)}"


class CELU(_Activation):
    """x where x > 0, else alpha * (exp(x / alpha) - 1)."""

    _functional = staticmethod(F.celu)
    _arguments = ("alpha", "inplace")

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_text(self.inplace)}"


class Softmin(Module):
    """softmax(-x) along `dim`."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        # A stack level of 5 points PyTorch's warning for a missing dim at the line calling the module.
        return F.softmin(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class PReLU(Module):
    """x where x > 0, else weight * x, with `num_parameters` learned slopes (1, or one per
    channel), all starting at `init`."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        layer = pure.PReLU(num_parameters, init, dtype=_numpy_dtype(dtype))
        _register_parameters(self, initial_parameters(layer), ("weight",), device)

    def reset_parameters(self) -> None:
        with no_grad():
            self.weight.fill_(self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
