"""`torch.nn.functional` over the functional face: each function records one op whose math
is the pure function of `nablax.nn` or `nablax.losses` (one implementation of the math),
with PyTorch's argument checks, warnings and backward-node names."""

from __future__ import annotations

import functools
import warnings
import weakref

import jax
import numpy as np

from ... import losses as L
from ... import nn as pure
from .. import dtypes as dt
from .. import engine
from ..engine import Op
from ..ops import elementwise
from ..ops import random
from ..ops import reductions as R
from ..ops import shape as S
from ..ops.common import broadcast_shapes
from ..ops.creation import tensor as make_tensor
from ..ops.inplace import write_result
from ..recording import record
from ..tensor import Tensor
from ._checks import not_implemented, padding_index, reject_unsupported
from ._attention import scaled_dot_product_attention as scaled_dot_product_attention
from ._conv import conv1d as conv1d
from ._conv import conv2d as conv2d
from ._norm import batch_norm as batch_norm
from ._norm import group_norm as group_norm
from ._norm import layer_norm as layer_norm
from ._norm import rms_norm as rms_norm
from ._pool import adaptive_avg_pool2d as adaptive_avg_pool2d
from ._pool import avg_pool2d as avg_pool2d
from ._pool import max_pool2d as max_pool2d

relu, sigmoid, tanh = elementwise.relu, elementwise.sigmoid, elementwise.tanh


def _implicit_softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's legacy choice of dim when none is given, with its deprecation warning."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an "
                  "argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None):
    """exp(x) / sum(exp(x)) along `dim` (`nablax.nn.softmax`)."""
    if dim is None:
        dim = _implicit_softmax_dim("softmax", input.ndim, _stacklevel)
    return R.softmax(input, dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None):
    """log(softmax(x)) along `dim`, computed stably (`nablax.nn.log_softmax`)."""
    if dim is None:
        dim = _implicit_softmax_dim("log_softmax", input.ndim, _stacklevel)
    return R.log_softmax(input, dim, dtype)


def _op(name: str, fn) -> Op:
    return Op(name, fn)


LINEAR = _op("linear", pure.linear)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None):
    """`input @ weight.T + bias` (`nablax.nn.linear`)."""
    # Shapes and dtypes straight from the exprs: this runs once per layer per step.
    x, w = input._current_expr(), weight._current_expr()
    in_features = w.shape[-1]
    if x.shape[-1:] != (in_features,):
        rows = int(np.prod(x.shape[:-1])) if len(x.shape) > 1 else 1
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{x.shape[-1] if x.shape else 1} and "
            f"{in_features}x{w.shape[0]})"
        )
    if x.dtype != w.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {input.dtype.scalar_name} and {weight.dtype.scalar_name}")
    shape = x.shape[:-1] + (w.shape[0],)
    if bias is None:
        name = {1: "SqueezeBackward4", 2: "MmBackward0"}.get(len(x.shape), "UnsafeViewBackward0")
        return record(LINEAR, (input, weight), shape, w.dtype, name)
    name = "AddmmBackward0" if len(x.shape) == 2 else "ViewBackward0"
    return record(LINEAR, (input, weight, bias), shape, w.dtype, name)


GELU = _op("gelu", lambda x, *, approximate: pure.gelu(x, approximate))


def gelu(input: Tensor, approximate: str = "none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return record(GELU, (input,), input.shape, input.dtype.numpy, "GeluBackward0", (("approximate", approximate),))


LEAKY_RELU = _op("leaky_relu", pure.leaky_relu)
ELU = _op("elu", pure.elu)
SILU = _op("silu", pure.silu)
SOFTPLUS = _op("softplus", pure.softplus)


def _floating_activation(op: Op, input: Tensor, kernel: str, grad_name: str, static=(), inplace: bool = False):
    """Records an activation that PyTorch implements for floating types only; in place, its
    result is written into `input` (whose grad_fn then names the in-place backward node)."""
    if not input.dtype.is_floating_point:
        raise not_implemented(kernel, input)
    result = record(op, (input,), input.shape, input.dtype.numpy, grad_name, static)
    return write_result(input, result) if inplace else result


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False):
    """x where x > 0, else negative_slope * x (`nablax.nn.leaky_relu`)."""
    name = "LeakyReluBackward1" if inplace else "LeakyReluBackward0"
    return _floating_activation(LEAKY_RELU, input, "leaky_relu_cpu", name, (("negative_slope", float(negative_slope)),),
                                inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False):
    """x where x > 0, else alpha * (exp(x) - 1) (`nablax.nn.elu`)."""
    name = "EluBackward1" if inplace else "EluBackward0"
    return _floating_activation(ELU, input, "elu_cpu", name, (("alpha", float(alpha)),), inplace)


def silu(input: Tensor, inplace: bool = False):
    """x * sigmoid(x) (`nablax.nn.silu`)."""
    return _floating_activation(SILU, input, "silu_cpu", "SiluBackward0", (), inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + exp(beta * x)) / beta, and x where beta * x > threshold (`nablax.nn.softplus`)."""
    static = (("beta", float(beta)), ("threshold", float(threshold)))
    return _floating_activation(SOFTPLUS, input, "softplus_cpu", "SoftplusBackward0", static)


DROPOUT = _op("dropout", lambda x, seed, counter, *, p: pure.dropout(x, p, random.key_of(seed, counter), train=True))


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zeroes elements with probability `p` (drawn from the global stream) and scales the
    rest by 1/(1-p), in training; the identity otherwise."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    seed, counter = random.default_generator.next_draw()
    return record(DROPOUT, (input, seed, counter), input.shape, input.dtype.numpy, "MulBackward0", (("p", float(p)),))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1):
    return S.flatten(input, start_dim, end_dim)


EMBEDDING = _op("embedding", pure.embedding)


def _known_value(tensor: Tensor):
    """The tensor's value if it is already computed and concrete, else None: pending, or a
    tracer (the module runs inside `jax.jit`, through `to_functional`)."""
    value = engine.strip(tensor._current_expr()).value
    return None if value is None or isinstance(value, jax.core.Tracer) else value


def _check_known_indices(indices: Tensor, num_embeddings: int) -> None:
    """PyTorch's range check, for indices whose values are already known (data, usually);
    pending ones are computed in the same program as the lookup, where a bad one gives NaNs."""
    value = _known_value(indices)
    if value is None or not np.size(value):
        return
    values = np.asarray(value)
    if values.min() < 0 or values.max() >= num_embeddings:
        raise IndexError("index out of range in self")


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False):
    """Rows of `weight` ([num_embeddings, embedding_dim]) for the integer indices `input`; the
    `padding_idx` row gets no gradient (`nablax.nn.embedding`)."""
    padding_idx = padding_index(padding_idx, weight.shape[0])
    reject_unsupported("embedding", max_norm=(max_norm, None), scale_grad_by_freq=(scale_grad_by_freq, False),
                       sparse=(sparse, False))
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    if input.dtype.name not in ("int64", "int32"):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, "
                           f"Int; but got {input.type()} instead (while checking arguments for embedding)")
    _check_known_indices(input, weight.shape[0])
    return record(EMBEDDING, (input, weight), (*input.shape, weight.shape[1]), weight.dtype.numpy, "EmbeddingBackward0",
                  (("padding_idx", padding_idx),), differentiable=(False, True))


# -- losses --------------------------------------------------------------------------------------


def _check_reduction(reduction: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _broadcast_regression(input: Tensor, target: Tensor, stacklevel: int = 4):
    """PyTorch broadcasts a regression target of another shape, with a warning that points
    at the line calling the loss (the default `stacklevel` counts this function, the loss's
    helper and the loss)."""
    if input.shape == target.shape:
        return input, target
    warnings.warn(
        f"Using a target size ({target.shape!r}) that is different to the input size ({input.shape!r}). This will "
        "likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
        UserWarning, stacklevel=stacklevel,
    )
    shape = broadcast_shapes(input.shape, target.shape)
    return input.expand(shape), target.expand(shape)


def _reduced_shape(shape: tuple, reduction: str) -> tuple:
    return shape if reduction == "none" else ()


def _target(target, like: Tensor):
    return target if isinstance(target, Tensor) else make_tensor(target, dtype=like.dtype)


MSE = _op("mse_loss", lambda x, t, *, reduction, dtype: L.mse(x.astype(dtype), t.astype(dtype), reduction))
L1 = _op("l1_loss", lambda x, t, *, reduction, dtype: L.l1(x.astype(dtype), t.astype(dtype), reduction))


def _regression_loss(op: Op, input, target, reduction: str, grad_name: str):
    _check_reduction(reduction)
    input, target = _broadcast_regression(input, _target(target, input))
    # PyTorch computes in the promoted dtype: a float64 target makes a float64 loss.
    dtype = dt.promote_types(input.dtype, target.dtype).numpy
    return record(op, (input, target), _reduced_shape(input.shape, reduction), dtype, grad_name,
                  (("reduction", reduction), ("dtype", dtype)))


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean"):
    """Mean squared error (`nablax.losses.mse`)."""
    return _regression_loss(MSE, input, target, reduction, "MseLossBackward0")


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean"):
    """Mean absolute error (`nablax.losses.l1`)."""
    name = {"mean": "MeanBackward0", "sum": "SumBackward0", "none": "AbsBackward0"}.get(reduction)
    return _regression_loss(L1, input, target, reduction, name)


def _class_target_checks(input: Tensor, target: Tensor, ignore_index: int) -> None:
    """PyTorch's batch-size and dtype checks and, for class indices already computed, its
    bounds check."""
    if input.ndim >= 2 and target.ndim >= 1 and input.shape[0] != target.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({target.shape[0]}).")
    if target.dtype.name not in ("int64", "uint8"):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {target.dtype.scalar_name}")
    expr = target._current_expr()
    classes = input.shape[1] if input.ndim >= 2 else input.shape[0]
    known = _known_value(target)
    if known is not None and target.numel() and _checked_bounds.get(expr) != (classes, ignore_index):
        values = np.asarray(known)
        bad = values[(values != ignore_index) & ((values < 0) | (values >= classes))]
        if bad.size:
            raise IndexError(f"Target {int(bad.flat[0])} is out of bounds.")
        _checked_bounds[expr] = (classes, ignore_index)  # the same targets every step: check once


# Targets whose bounds were checked, so a training loop does not copy them to the host each step.
_checked_bounds: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _weight_operands(weight):
    return () if weight is None else (weight,)


def _with_weight(fn):
    """Calls a pure loss with an optional trailing weight operand as its `weight=` argument."""

    @functools.wraps(fn)
    def call(input, target, *weight, **static):
        return fn(input, target, weight=weight[0] if weight else None, **static)

    return call


CROSS_ENTROPY = _op("cross_entropy", _with_weight(L.cross_entropy))
NLL = _op("nll_loss", _with_weight(L.nll))


def cross_entropy(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0):
    """Softmax cross-entropy of logits, for class indices or probabilities (`nablax.losses.cross_entropy`)."""
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    # PyTorch's rule: a target of the input's own shape holds class probabilities.
    probabilities = target.shape == input.shape
    if probabilities:
        if not target.dtype.is_floating_point:
            raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                               f"{target.dtype.scalar_name}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        name = "DivBackward1" if reduction == "mean" else "NegBackward0"  # smoothing folds into the target
    else:
        _class_target_checks(input, target, ignore_index)
        name = "AddBackward0" if label_smoothing else "NllLossBackward0"
    shape = _reduced_shape(target.shape if not probabilities else input.shape[:1] + input.shape[2:], reduction)
    static = (("ignore_index", int(ignore_index)), ("reduction", reduction), ("label_smoothing", float(label_smoothing)))
    return record(CROSS_ENTROPY, (input, target, *_weight_operands(weight)), shape, input.dtype.numpy, name, static,
                  differentiable=(True, probabilities) + (False,) * (weight is not None))


def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None, reduction: str = "mean"):
    """Negative log likelihood of class indices under log-probabilities (`nablax.losses.nll`)."""
    _check_reduction(reduction)
    _class_target_checks(input, target, ignore_index)
    static = (("ignore_index", int(ignore_index)), ("reduction", reduction))
    return record(NLL, (input, target, *_weight_operands(weight)), _reduced_shape(target.shape, reduction),
                  input.dtype.numpy, "NllLossBackward0", static, differentiable=(True, False, False))


def _check_same_size(input: Tensor, target: Tensor) -> None:
    if input.shape != target.shape:
        raise ValueError(
            f"Using a target size ({target.shape!r}) that is different to the input size ({input.shape!r}) is deprecated. "
            "Please ensure they have the same size."
        )


def _check_logits_target_size(input: Tensor, target: Tensor) -> None:
    if input.shape != target.shape:
        raise ValueError(f"Target size ({target.shape!r}) must be the same as input size ({input.shape!r})")


BCE = _op("binary_cross_entropy", _with_weight(L.binary_cross_entropy))
def _bce_with_logits(x, t, *extra, reduction, has_weight, has_pos_weight):
    weight = extra[0] if has_weight else None
    pos_weight = extra[-1] if has_pos_weight else None
    return L.binary_cross_entropy_with_logits(x, t, weight, reduction, pos_weight)


BCE_LOGITS = _op("binary_cross_entropy_with_logits", _bce_with_logits)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
    """Binary cross-entropy of probabilities (`nablax.losses.binary_cross_entropy`)."""
    _check_reduction(reduction)
    _check_same_size(input, target)
    return record(BCE, (input, target, *_weight_operands(weight)), _reduced_shape(input.shape, reduction),
                  input.dtype.numpy, "BinaryCrossEntropyBackward0", (("reduction", reduction),),
                  differentiable=(True, True, False))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight=None):
    """Sigmoid and binary cross-entropy from logits, computed stably."""
    _check_reduction(reduction)
    _check_logits_target_size(input, target)
    operands = (input, target, *_weight_operands(weight), *(() if pos_weight is None else (pos_weight,)))
    return record(BCE_LOGITS, operands, _reduced_shape(input.shape, reduction), input.dtype.numpy,
                  "BinaryCrossEntropyWithLogitsBackward0",
                  (("reduction", reduction), ("has_weight", weight is not None), ("has_pos_weight", pos_weight is not None)),
                  differentiable=(True, True, False, False))
