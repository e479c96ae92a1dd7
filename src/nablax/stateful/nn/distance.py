"""The distance modules of `torch.nn` (`CosineSimilarity`, `PairwiseDistance`), thin modules
over `nn.functional`."""

from __future__ import annotations

from . import functional as F
from .module import Module


class CosineSimilarity(Module):
    """The cosine similarity of two inputs along `dim` (`nn.functional.cosine_similarity`)."""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """The p-norm of x1 - x2 + eps along the last dimension (`nn.functional.pairwise_distance`);
    PyTorch names p `norm` on the module."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
