"""The margin, embedding, triplet and likelihood loss modules of `torch.nn`
(`HingeEmbeddingLoss`, `MultiMarginLoss`, `TripletMarginLoss`, `PoissonNLLLoss`, ...), thin
modules over `nn.functional` with PyTorch's constructors and attributes."""

from __future__ import annotations

from . import functional as F
from .distance import PairwiseDistance
from .modules import _Loss, _WeightedLoss


class _MarginLoss(_Loss):
    """A loss of two or three tensors with a `margin` (`_functional` computes it)."""

    _functional = None
    _default_margin = 0.0

    def __init__(self, margin: float | None = None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = self._default_margin if margin is None else margin

    def forward(self, *inputs):
        return type(self)._functional(*inputs, margin=self.margin, reduction=self.reduction)


def _margin_loss(name: str, functional, default_margin: float, doc: str) -> type:
    namespace = {"_functional": staticmethod(functional), "_default_margin": default_margin, "__doc__": doc,
                 "__module__": __name__}
    return type(name, (_MarginLoss,), namespace)


CosineEmbeddingLoss = _margin_loss("CosineEmbeddingLoss", F.cosine_embedding_loss, 0.0,
                                   "1 - cos(x1, x2) for target 1, max(0, cos(x1, x2) - margin) for -1.")
HingeEmbeddingLoss = _margin_loss("HingeEmbeddingLoss", F.hinge_embedding_loss, 1.0,
                                  "x for target 1, max(0, margin - x) for -1.")
MarginRankingLoss = _margin_loss("MarginRankingLoss", F.margin_ranking_loss, 0.0,
                                 "max(0, -target * (x1 - x2) + margin).")


class _PlainLoss(_Loss):
    _functional = None

    def forward(self, input, target):
        return type(self)._functional(input, target, reduction=self.reduction)


class SoftMarginLoss(_PlainLoss):
    """log(1 + exp(-target * input))."""

    _functional = staticmethod(F.soft_margin_loss)


class MultiLabelMarginLoss(_PlainLoss):
    """The multi-label hinge loss of class-index targets (ended by -1)."""

    _functional = staticmethod(F.multilabel_margin_loss)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """The per-class binary cross-entropy of sigmoid(input), averaged over the classes."""

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """The multi-class hinge loss: mean over wrong classes of max(0, margin - x[y] + x[j])^p."""

    def __init__(self, p: int = 1, margin: float = 1.0, weight=None, size_average=None, reduce=None,
                 reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and weight.ndim != 1:
            raise ValueError(f"MultiMarginLoss: expected weight to be None or 1D tensor, got {weight.ndim}D instead")
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                   reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """The Poisson negative log likelihood (`nn.functional.poisson_nll_loss`)."""

    def __init__(self, log_input: bool = True, full: bool = False, size_average=None, eps: float = 1e-8, reduce=None,
                 reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full, eps=self.eps,
                                  reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """The Gaussian negative log likelihood (`nn.functional.gaussian_nll_loss`)."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
        super().__init__(None, None, reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) with the p-norm distance."""

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False, size_average=None,
                 reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got {margin} instead")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps,
                                     swap=self.swap, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """`TripletMarginLoss` with any distance function (by default a `PairwiseDistance`)."""

    def __init__(self, *, distance_function=None, margin: float = 1.0, swap: bool = False, reduction: str = "mean"):
        super().__init__(None, None, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {margin} instead")
        self.distance_function = distance_function if distance_function is not None else PairwiseDistance()
        self.margin, self.swap = margin, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=self.distance_function,
                                                   margin=self.margin, swap=self.swap, reduction=self.reduction)


class CTCLoss(_Loss):
    """The connectionist temporal classification loss (`nn.functional.ctc_loss`)."""

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False):
        super().__init__(None, None, reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                          self.zero_infinity)
