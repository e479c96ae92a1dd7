"""The losses of `nn.functional`: PyTorch's checks, warnings and backward-node names, each
recorded as one op whose math is the loss of `nablax.losses` (one implementation of the
math)."""

from __future__ import annotations

import functools
import warnings
import weakref

import numpy as np

from ... import losses as L
from .. import dtypes as dt
from ..engine import Op
from ..ops.common import broadcast_shapes
from ..ops.creation import tensor as make_tensor
from ..recording import record
from ..tensor import Tensor
from ._checks import known_value, not_implemented


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


MSE = Op("mse_loss", lambda x, t, *, reduction, dtype: L.mse(x.astype(dtype), t.astype(dtype), reduction))
L1 = Op("l1_loss", lambda x, t, *, reduction, dtype: L.l1(x.astype(dtype), t.astype(dtype), reduction))


def _regression_loss(op: Op, input, target, reduction: str, grad_name: str, dtype=None, kernel: str | None = None,
                     **static):
    """Records a loss of `input` and `target` broadcast together (with PyTorch's warning when
    their shapes differ), computed in `dtype`: by default the promoted one, as PyTorch does
    for most losses (a float64 target makes a float64 loss). A `kernel` names PyTorch's
    error for integer inputs."""
    _check_reduction(reduction)
    input, target = _broadcast_regression(input, _target(target, input))
    dtype = (dtype or dt.promote_types(input.dtype, target.dtype)).numpy
    if kernel is not None and not input.dtype.is_floating_point:
        raise not_implemented(kernel, input)
    return record(op, (input, target), _reduced_shape(input.shape, reduction), dtype, grad_name,
                  (("reduction", reduction), ("dtype", dtype), *static.items()))


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean"):
    """Mean squared error (`nablax.losses.mse`)."""
    return _regression_loss(MSE, input, target, reduction, "MseLossBackward0")


_L1_NAMES = {"mean": "MeanBackward0", "sum": "SumBackward0", "none": "AbsBackward0"}


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean"):
    """Mean absolute error (`nablax.losses.l1`)."""
    return _regression_loss(L1, input, target, reduction, _L1_NAMES.get(reduction))


SMOOTH_L1 = Op("smooth_l1_loss", lambda x, t, *, reduction, dtype, beta: L.smooth_l1(x.astype(dtype), t.astype(dtype),
                                                                                      reduction, beta))
HUBER = Op("huber_loss", lambda x, t, *, reduction, dtype, delta: L.huber(x.astype(dtype), t.astype(dtype), reduction,
                                                                          delta))


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0):
    """Quadratic below `beta`, linear above (`nablax.losses.smooth_l1`); `beta=0` is `l1_loss`."""
    if beta == 0.0:  # PyTorch computes the L1 loss then, with its backward nodes
        return _regression_loss(L1, input, target, reduction, _L1_NAMES.get(reduction))
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    return _regression_loss(SMOOTH_L1, input, target, reduction, "SmoothL1LossBackward0", kernel="smooth_l1_cpu",
                            beta=float(beta))


WEIGHTED_HUBER = Op("weighted_huber_loss", lambda x, t, w, *, reduction, delta: L.huber(x, t.astype(x.dtype), reduction,
                                                                                       delta, w.astype(x.dtype)))


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0, weight=None):
    """Quadratic up to `delta`, linear beyond, optionally weighted (`nablax.losses.huber`); in the
    input's dtype."""
    if weight is None:
        if delta <= 0:
            raise RuntimeError("huber_loss does not support non-positive values for delta.")
        return _regression_loss(HUBER, input, target, reduction, "HuberLossBackward0", input.dtype,
                                kernel="huber_cpu", delta=float(delta))
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    input, target = _broadcast_regression(input, _target(target, input), stacklevel=3)
    name = {"mean": "MeanBackward0", "sum": "SumBackward0", "none": "MulBackward0"}[reduction]
    return record(WEIGHTED_HUBER, (input, target, weight), _reduced_shape(input.shape, reduction), input.dtype.numpy,
                  name, (("reduction", reduction), ("delta", float(delta))))


def _kl_div(x, t, *, reduction, log_target, dtype, batch):
    """`nablax.losses.kl_div` in `dtype`; 'batchmean' divides the sum by `batch`, the size of
    the input's first dimension before broadcasting."""
    x, t = x.astype(dtype), t.astype(dtype)
    if reduction == "batchmean":
        return L.kl_div(x, t, "sum", log_target) / batch
    return L.kl_div(x, t, reduction, log_target)


KL_DIV = Op("kl_div", _kl_div)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False):
    """The KL divergence of `target` from log-probabilities `input` (`nablax.losses.kl_div`);
    `reduction='batchmean'` is the divergence per sample."""
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size.'batchmean' "
                      "divides only by the batch size, and aligns with the KL div math definition.'mean' will be changed "
                      "to behave the same as 'batchmean' in the next major release.", UserWarning, stacklevel=2)
    if reduction != "batchmean":
        _check_reduction(reduction)
    target = _target(target, input)
    if not (input.dtype.is_floating_point and target.dtype.is_floating_point):
        raise RuntimeError("kl_div: Integral inputs not supported.")
    shape = broadcast_shapes(tuple(target.shape), tuple(input.shape))  # PyTorch's order in its message
    batch = input.shape[0] if input.ndim else None
    names = {"none": "MulBackward0" if log_target else "SubBackward0", "sum": "SumBackward0", "mean": "MeanBackward0",
             "batchmean": "DivBackward0" if batch is not None else "SumBackward0"}
    dtype = dt.promote_types(input.dtype, target.dtype).numpy
    return record(KL_DIV, (input.expand(shape), target.expand(shape)), _reduced_shape(shape, reduction), dtype,
                  names[reduction], (("reduction", reduction if batch is not None else "sum"),
                                     ("log_target", bool(log_target)), ("dtype", dtype), ("batch", batch)))


def _class_target_checks(input: Tensor, target: Tensor, ignore_index: int) -> None:
    """PyTorch's batch-size and dtype checks and, for class indices already computed, its
    bounds check."""
    if input.ndim >= 2 and target.ndim >= 1 and input.shape[0] != target.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({target.shape[0]}).")
    if target.dtype.name not in ("int64", "uint8"):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {target.dtype.scalar_name}")
    expr = target._current_expr()
    classes = input.shape[1] if input.ndim >= 2 else input.shape[0]
    known = known_value(target)
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


CROSS_ENTROPY = Op("cross_entropy", _with_weight(L.cross_entropy))
NLL = Op("nll_loss", _with_weight(L.nll))


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


BCE = Op("binary_cross_entropy", _with_weight(L.binary_cross_entropy))
def _bce_with_logits(x, t, *extra, reduction, has_weight, has_pos_weight):
    weight = extra[0] if has_weight else None
    pos_weight = extra[-1] if has_pos_weight else None
    return L.binary_cross_entropy_with_logits(x, t, weight, reduction, pos_weight)


BCE_LOGITS = Op("binary_cross_entropy_with_logits", _bce_with_logits)


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
