"""The margin and embedding losses of `nn.functional` (`hinge_embedding_loss`,
`cosine_embedding_loss`, `margin_ranking_loss`, `multi_margin_loss`, `multilabel_margin_loss`,
`triplet_margin_loss`, ...), composed from the tensor ops as PyTorch composes them, with
PyTorch's checks and reductions ('mean' | 'sum' | 'none')."""

from __future__ import annotations

import numpy as np

from ..engine import is_grad_enabled
from ..ops import arithmetic as A
from ..ops.creation import arange, full_like, zeros_like
from ..tensor import Tensor
from ._checks import known_value, not_implemented, sizes
from ._distances import pairwise_distance
from ._losses import _check_reduction


def apply_reduction(loss: Tensor, reduction: str) -> Tensor:
    """PyTorch's reduction of a loss per element: its mean, its sum, or the loss itself."""
    _check_reduction(reduction)
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean"):
    """x where the target is 1, max(0, margin - x) where it is -1.

        >>> import nablax.stateful as torch
        >>> torch.nn.functional.hinge_embedding_loss(torch.tensor([0.25, 2.0]), torch.tensor([-1.0, 1.0])).item()
        1.375
    """
    _check_reduction(reduction)
    # PyTorch fills a tensor of the input's dtype with the margin (an integer input truncates it).
    margin_value = margin if input.dtype.is_floating_point or input.dtype.is_complex else int(margin)
    beyond_margin = (full_like(input, margin_value) - input).clamp_min(0)
    zeros = zeros_like(input)
    loss = A.where(target != 1, beyond_margin, zeros) + A.where(target != -1, input, zeros)
    return apply_reduction(loss, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, size_average=None,
                          reduce=None, reduction: str = "mean"):
    """1 - cos(x1, x2) where the target is 1, max(0, cos(x1, x2) - margin) where it is -1; the
    cosine is taken along the inputs' last dimension."""
    _check_reduction(reduction)
    dim = target.ndim
    if dim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input1.ndim != dim + 1 or input2.ndim != dim + 1:
        raise RuntimeError(f"{dim}D target tensor expects {dim + 1}D input tensors, but found inputs with sizes "
                           f"{sizes(input1.shape)} and {sizes(input2.shape)}.")
    epsilon = 1e-12  # PyTorch's, added to each squared magnitude
    products = (input1 * input2).sum(dim)
    magnitudes = (((input1 * input1).sum(dim) + epsilon) * ((input2 * input2).sum(dim) + epsilon)).sqrt()
    cosine = products / magnitudes
    zeros = zeros_like(cosine)
    loss = A.where(target == 1, 1 - cosine, zeros) + A.where(target == -1, (cosine - margin).clamp_min(0), zeros)
    return apply_reduction(loss, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, size_average=None,
                        reduce=None, reduction: str = "mean"):
    """max(0, -target * (x1 - x2) + margin): the target (1 or -1) says which should rank higher."""
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    _check_reduction(reduction)
    return apply_reduction((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def _check_class_targets(target: Tensor, classes: int, message: str, ignore: int | None = None) -> None:
    """PyTorch's bounds check of class indices whose values are known (`ignore` is exempt)."""
    values = known_value(target)
    if values is None or not np.size(values):
        return
    values = np.asarray(values)
    if ignore is not None:
        values = values[values != ignore]
    if values.size and (values.min() < 0 or values.max() >= classes):
        raise RuntimeError(message)


def _as_matrix(input: Tensor) -> Tensor:
    """A 0-D or 1-D input as one row, as PyTorch's margin kernels see it."""
    return input.reshape(1, -1) if input.ndim < 2 else input


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                      size_average=None, reduce=None, reduction: str = "mean"):
    """The multi-class hinge loss: the mean over classes j != y of max(0, margin - x[y] + x[j])^p
    (times weight[y]), for each sample's class y."""
    _check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    if input.ndim > 2 or input.ndim and input.shape[-1] == 0:
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{sizes(input.shape)}")
    scores = _as_matrix(input)
    samples, classes = scores.shape
    if target.ndim > 1 or target.numel() != samples:
        raise RuntimeError(f"inconsistent target size, expected {samples} but got {sizes(target.shape)}")
    if weight is not None and weight.numel() != classes:
        raise RuntimeError(f"inconsistent weight size, expected {classes} but got {sizes(weight.shape)}")
    if target.dtype.name != "int64":
        raise RuntimeError(f"expected scalar type Long but found {target.dtype.scalar_name}")
    if not input.dtype.is_floating_point:
        raise not_implemented("multi_margin_loss_cpu_kernel", input)
    if weight is not None and weight.requires_grad and is_grad_enabled():
        raise RuntimeError("The function 'multi_margin_loss' is not differentiable with respect to argument 'weight'. "
                           "This input cannot have requires_grad True.")
    _check_class_targets(target, classes, "target out of range")
    labels = target.reshape(samples, 1)
    hinge = (margin - scores.gather(1, labels) + scores).clamp_min(0)
    hinge = hinge * hinge if p == 2 else hinge
    if weight is not None:
        hinge = hinge * weight[target.reshape(samples)].reshape(samples, 1)
    others = arange(classes) != labels  # the sample's own class is no margin of itself
    loss = A.where(others, hinge, zeros_like(hinge)).sum(1) / classes
    return apply_reduction(loss if reduction != "none" or target.ndim else loss.reshape(()), reduction)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean"):
    """The multi-label hinge loss: each sample's targets are the class indices of `target` up
    to its first -1; the loss is the sum of max(0, 1 - (x[y] - x[i])) over its targets y and
    non-target classes i, divided by the number of classes."""
    _check_reduction(reduction)
    if input.ndim > 2 or input.ndim and input.shape[-1] == 0:
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{sizes(input.shape)}")
    if target.shape != input.shape:
        raise RuntimeError(f"inconsistent target size: {sizes(target.shape)} for input of size: "
                           f"{sizes(input.shape)}")
    if target.dtype.name != "int64":
        raise RuntimeError(f"expected scalar type Long but found {target.dtype.scalar_name}")
    if not input.dtype.is_floating_point:
        raise not_implemented("multilabel_margin_loss_forward_out_frame", input)
    scores, labels = _as_matrix(input), _as_matrix(target)
    classes = scores.shape[1]
    _check_class_targets(labels, classes, "argument #2 'target' is out of range", ignore=-1)
    listed = (labels == -1).cumsum(1) == 0  # the targets before the first -1
    matches = (labels.unsqueeze(2) == arange(classes)) & listed.unsqueeze(2)  # [sample, target, class]
    is_target = matches.any(1)
    target_scores = scores.gather(1, labels.clamp_min(0))
    hinge = (1 - (target_scores.unsqueeze(2) - scores.unsqueeze(1))).clamp_min(0)
    counted = listed.unsqueeze(2) & ~is_target.unsqueeze(1)
    loss = A.where(counted, hinge, zeros_like(hinge)).sum((1, 2)) / classes
    return apply_reduction(loss if input.ndim == 2 else loss.reshape(()), reduction)


def _check_triplet_dims(anchor: Tensor, positive: Tensor, negative: Tensor) -> None:
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and negative "
                           f"{negative.ndim}D inputs")


def _triplet(anchor, positive, negative, distance, margin: float, swap: bool, reduction: str) -> Tensor:
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    to_positive, to_negative = distance(anchor, positive), distance(anchor, negative)
    if swap:  # the positive's distance to the negative, where it is the nearer
        to_negative = A.minimum(to_negative, distance(positive, negative))
    return apply_reduction((margin + to_positive - to_negative).clamp_min(0), reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None, reduction: str = "mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) with d the p-norm
    `pairwise_distance`."""
    _check_reduction(reduction)

    def distance(x1, x2):
        return pairwise_distance(x1, x2, p, eps)

    return _triplet(anchor, positive, negative, distance, margin, swap, reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *, distance_function=None,
                                      margin: float = 1.0, swap: bool = False, reduction: str = "mean"):
    """`triplet_margin_loss` with any `distance_function` (by default `pairwise_distance`)."""
    _check_reduction(reduction)
    return _triplet(anchor, positive, negative, distance_function or pairwise_distance, margin, swap, reduction)
