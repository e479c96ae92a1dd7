"""The likelihood and logistic losses of `nn.functional` (`poisson_nll_loss`,
`gaussian_nll_loss`, `soft_margin_loss`, `multilabel_soft_margin_loss`), composed from the
tensor ops as PyTorch composes them, with its checks and reductions."""

from __future__ import annotations

import math

from ..ops.creation import ones_like
from ..tensor import Tensor
from ._activation import logsigmoid
from ._distances import clamped_below
from ._margin_losses import apply_reduction


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False, size_average=None,
                     eps: float = 1e-8, reduce=None, reduction: str = "mean"):
    """The Poisson negative log likelihood of `target` with rate exp(input) (`log_input`) or
    input; `full` adds Stirling's approximation of log(target!) where the target exceeds 1.

        >>> import nablax.stateful as torch
        >>> round(torch.nn.functional.poisson_nll_loss(torch.tensor([0.0]), torch.tensor([2.0])).item(), 4)
        1.0
    """
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return apply_reduction(loss, reduction)


def _gaussian_variance(input: Tensor, var) -> Tensor:
    """`var` checked (non-negative, and of the input's shape or one that broadcasts to it in one
    dimension) and shaped against the input, as PyTorch does."""
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        return var * ones_like(input)
    if bool((var < 0).any()):  # PyTorch reads the values here too
        raise ValueError("var has negative entry/entries")
    if var.shape == input.shape:
        return var
    if input.shape[:-1] == var.shape:
        return var.unsqueeze(-1)
    if input.ndim == var.ndim and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1:
        return var
    raise ValueError("var is of incorrect size")


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean"):
    """The Gaussian negative log likelihood of `target` with mean `input` and variance `var`
    (at least `eps`): 0.5 * (log(var) + (input - target)^2 / var), plus 0.5 * log(2 pi) when
    `full`."""
    var = _gaussian_variance(input, var)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = clamped_below(var, eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return apply_reduction(loss, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean"):
    """log(1 + exp(-target * input)): the logistic loss of targets 1 and -1."""
    return apply_reduction((-input * target).exp().log1p(), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                                reduce=None, reduction: str = "mean"):
    """The binary cross-entropy of sigmoid(input) and the 0/1 `target`, optionally weighted,
    averaged over the classes (the last dimension)."""
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(input.ndim - 1) / input.shape[-1]
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    return apply_reduction(loss, reduction)
