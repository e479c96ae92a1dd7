"""The activations of `nn.functional`, one table row each: the functional face's pure function
(`nablax.nn.hardtanh`, `nablax.nn.mish`, ...), PyTorch's backward-node names (out of place
and in place), and what PyTorch's kernel refuses. In place (`inplace=True`), the result is
written into the input, as PyTorch does."""

from __future__ import annotations

from typing import NamedTuple

from ... import nn as pure
from .. import dtypes as dt
from ..engine import Op
from ..ops import arithmetic as A
from ..ops import random
from ..ops.inplace import write_result
from ..recording import record
from ..tensor import Tensor
from ._checks import not_implemented


class Activation(NamedTuple):
    op: Op
    grad_name: str
    inplace_grad_name: str | None  # None where PyTorch has no in-place form
    kernel: str  # PyTorch's kernel, named in its error for the dtypes it lacks
    integers: bool = False  # integer inputs compute as integers (hardtanh, threshold)
    bool_error: str | None = None  # PyTorch's own RuntimeError for a bool input


def _row(name: str, grad: str, inplace_grad: str | None, kernel: str, **options) -> Activation:
    return Activation(Op(name, getattr(pure, name)), grad, inplace_grad, kernel, **options)


HARDTANH = _row("hardtanh", "HardtanhBackward0", "HardtanhBackward0", "hardtanh", integers=True,
                bool_error="Bool inputs not supported for hardtanh")
THRESHOLD = _row("threshold", "ThresholdBackward0", "ThresholdBackward1", "threshold_cpu", integers=True)
LEAKY_RELU = _row("leaky_relu", "LeakyReluBackward0", "LeakyReluBackward1", "leaky_relu_cpu")
ELU = _row("elu", "EluBackward0", "EluBackward1", "elu_cpu")
SELU = _row("selu", "EluBackward0", "EluBackward1", "elu_cpu")
CELU = _row("celu", "CeluBackward0", "CeluBackward1", "elu_cpu")
SILU = _row("silu", "SiluBackward0", "SiluBackward0", "silu_cpu")
MISH = _row("mish", "MishBackward0", "MishBackward0", "mish_cpu")
HARDSWISH = _row("hardswish", "HardswishBackward0", "HardswishBackward0", "hardswish_cpu")
HARDSIGMOID = _row("hardsigmoid", "HardsigmoidBackward0", "HardsigmoidBackward0", "hardsigmoid_cpu")
SOFTPLUS = _row("softplus", "SoftplusBackward0", None, "softplus_cpu")
LOGSIGMOID = _row("logsigmoid", "LogSigmoidBackward0", None, "log_sigmoid_cpu")


def activate(row: Activation, input: Tensor, inplace: bool = False, **static) -> Tensor:
    """Records the activation of `row` on `input` (written into it when `inplace`), with
    PyTorch's dtype checks; `static` holds its numbers (`min_val`, `alpha`, ...)."""
    if row.bool_error is not None and input.dtype is dt.bool_:
        raise RuntimeError(row.bool_error)
    if not (input.dtype.is_floating_point or row.integers and input.dtype is not dt.bool_ and not input.dtype.is_complex):
        raise not_implemented(row.kernel, input)
    grad_name = row.inplace_grad_name if inplace else row.grad_name
    result = record(row.op, (input,), input.shape, input.dtype.numpy, grad_name, tuple(static.items()))
    return write_result(input, result) if inplace else result


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """x clipped to [min_val, max_val] (`nablax.nn.hardtanh`)."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return activate(HARDTANH, input, inplace, min_val=min_val, max_val=max_val)


def relu6(input: Tensor, inplace: bool = False):
    """min(max(x, 0), 6): `hardtanh(x, 0, 6)`, as in PyTorch."""
    return activate(HARDTANH, input, inplace, min_val=0.0, max_val=6.0)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False):
    """x where x > threshold, else value (`nablax.nn.threshold`)."""
    return activate(THRESHOLD, input, inplace, threshold=threshold, value=value)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False):
    """x where x > 0, else negative_slope * x (`nablax.nn.leaky_relu`)."""
    return activate(LEAKY_RELU, input, inplace, negative_slope=float(negative_slope))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False):
    """x where x > 0, else alpha * (exp(x) - 1) (`nablax.nn.elu`)."""
    return activate(ELU, input, inplace, alpha=float(alpha))


def selu(input: Tensor, inplace: bool = False):
    """scale * elu(x, alpha) with the self-normalising constants (`nablax.nn.selu`)."""
    return activate(SELU, input, inplace)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False):
    """x where x > 0, else alpha * (exp(x / alpha) - 1) (`nablax.nn.celu`)."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return activate(CELU, input, inplace, alpha=float(alpha))


def silu(input: Tensor, inplace: bool = False):
    """x * sigmoid(x) (`nablax.nn.silu`)."""
    return activate(SILU, input, inplace)


def mish(input: Tensor, inplace: bool = False):
    """x * tanh(softplus(x)) (`nablax.nn.mish`)."""
    return activate(MISH, input, inplace)


def hardswish(input: Tensor, inplace: bool = False):
    """x * relu6(x + 3) / 6 (`nablax.nn.hardswish`)."""
    return activate(HARDSWISH, input, inplace)


def hardsigmoid(input: Tensor, inplace: bool = False):
    """relu6(x + 3) / 6 (`nablax.nn.hardsigmoid`)."""
    return activate(HARDSIGMOID, input, inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + exp(beta * x)) / beta, and x where beta * x > threshold (`nablax.nn.softplus`)."""
    return activate(SOFTPLUS, input, beta=float(beta), threshold=float(threshold))


def logsigmoid(input: Tensor):
    """log(sigmoid(x)), computed stably (`nablax.nn.logsigmoid`)."""
    return activate(LOGSIGMOID, input)


SOFTSIGN = Op("softsign", lambda x, *, dtype: pure.softsign(x.astype(dtype)))


def softsign(input: Tensor):
    """x / (1 + |x|) (`nablax.nn.softsign`); integers compute in the default float dtype."""
    if input.dtype is dt.bool_:
        raise not_implemented("abs_cpu", input)
    dtype = input.dtype if input.dtype.is_floating_point else dt.get_default_dtype()
    return record(SOFTSIGN, (input,), input.shape, dtype.numpy, "DivBackward0", (("dtype", dtype.numpy),))


PRELU = Op("prelu", pure.prelu)


def prelu(input: Tensor, weight: Tensor):
    """x where x > 0, else weight * x, with one slope or one per channel (`nablax.nn.prelu`)."""
    if input.dtype is not weight.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {input.dtype.scalar_name} and "
                           f"{weight.dtype.scalar_name}")
    if weight.numel() != 1:
        if not input.ndim:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input.shape[1] if input.ndim > 1 else 1
        if channels != weight.numel():
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{weight.numel()} and channel size = {channels}.")
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}")
    if not input.dtype.is_floating_point:
        raise not_implemented("prelu_cpu", input)
    return record(PRELU, (input, weight), input.shape, input.dtype.numpy, "PreluKernelBackward0")


# The shrinkages, the gated unit and the randomized leaky ReLU are compositions of the tensor ops,
# as several of them are in PyTorch, so their gradients are those ops' (and JAX's).


def hardshrink(input: Tensor, lambd: float = 0.5):
    """x where |x| > lambd, else 0 (NaN stays NaN).

        >>> import nablax.stateful as torch
        >>> torch.nn.functional.hardshrink(torch.tensor([-1.0, 0.25, 2.0])).tolist()
        [-1.0, 0.0, 2.0]
    """
    if not input.dtype.is_floating_point:
        raise not_implemented("hardshrink_cpu", input)
    return A.where(input.abs() <= lambd, 0.0, input)


def softshrink(input: Tensor, lambd: float = 0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between (NaN stays NaN)."""
    if not input.dtype.is_floating_point:
        raise not_implemented("softshrink_check", input)
    if lambd < 0:
        raise RuntimeError(f"lambda must be in range [0, 3.40282e+38] for input dtype {input.dtype.scalar_name}, but "
                           f"found {lambd:g}")
    shrunk = A.where(input > lambd, input - lambd, input + lambd)
    return A.where(input.abs() <= lambd, 0.0, shrunk)


def tanhshrink(input: Tensor):
    """x - tanh(x); integers compute in the default float dtype, as in PyTorch."""
    return input - input.tanh()


def glu(input: Tensor, dim: int = -1):
    """a * sigmoid(b), for a and b the two halves of `input` along `dim`.

        >>> import nablax.stateful as torch
        >>> torch.nn.functional.glu(torch.tensor([1.0, 2.0, 0.0, 0.0])).tolist()
        [0.5, 1.0]
    """
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    axis = dim % input.ndim if -input.ndim <= dim < input.ndim else dim
    size = input.shape[axis]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {axis} is size {size}")
    if not input.dtype.is_floating_point:
        raise not_implemented("glu_cpu", input)
    first, second = input.chunk(2, dim)
    return first * second.sigmoid()


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False):
    """leaky_relu with a slope drawn uniformly from [lower, upper] for each non-positive element in
    training, and with the slope (lower + upper) / 2 otherwise."""
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    if not input.dtype.is_floating_point:
        raise not_implemented("leaky_relu_cpu", input)
    slopes = random.rand(tuple(input.shape), dtype=input.dtype) * (upper - lower) + lower
    noise = A.where(input > 0, 1.0, slopes)  # PyTorch's rule: x <= 0 gets a drawn slope
    result = input * noise
    return write_result(input, result) if inplace else result
