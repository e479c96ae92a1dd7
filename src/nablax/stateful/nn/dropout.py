"""The channel and alpha dropout modules of `torch.nn` (`Dropout2d`, `Dropout3d`,
`AlphaDropout`, `FeatureAlphaDropout`): in training mode (`.train()`) they call their
`nn.functional` dropout; in evaluation mode they are the identity."""

from __future__ import annotations

from . import functional as F
from .module import Module


class _Dropout(Module):
    _functional = None

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return type(self)._functional(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


def _module(name: str, functional, doc: str) -> type:
    return type(name, (_Dropout,), {"_functional": staticmethod(functional), "__doc__": doc, "__module__": __name__})


Dropout2d = _module("Dropout2d", F.dropout2d, "Zeroes whole channels of [N, C, H, W] inputs (`F.dropout2d`).")
Dropout3d = _module("Dropout3d", F.dropout3d, "Zeroes whole channels of [N, C, D, H, W] inputs (`F.dropout3d`).")
AlphaDropout = _module("AlphaDropout", F.alpha_dropout, "Dropout that keeps SELU's mean and variance.")
FeatureAlphaDropout = _module("FeatureAlphaDropout", F.feature_alpha_dropout, "`AlphaDropout` of whole channels.")
