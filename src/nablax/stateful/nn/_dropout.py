"""The feature and alpha dropouts of `nn.functional` (`dropout2d`, `dropout3d`,
`alpha_dropout`, `feature_alpha_dropout`), as PyTorch's one dropout kernel computes them: a
Bernoulli mask drawn from the global stream, per element or per channel (a feature dropout
zeroes whole channels), scaled to keep the mean, or for alpha dropout the self-normalising
mean and variance."""

from __future__ import annotations

import math
import warnings

from ..ops import random
from ..ops.creation import zeros_like
from ..ops.inplace import write_result
from ..tensor import Tensor

SELU_ALPHA = 1.7580993408473766  # -scale * alpha of SELU: where alpha dropout sends dropped units


def _check_probability(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _warn_of_rank(input: Tensor, name: str, spatial: int) -> None:
    """PyTorch's deprecation warning for an input of neither `spatial + 1` nor `spatial + 2`
    dimensions, pointing at the line that called the dropout."""
    if input.ndim not in (spatial + 1, spatial + 2):
        warnings.warn(f"{name}: Received a {input.ndim}-D input to {name}, which is deprecated and will result in an "
                      "error in a future release. To retain the behavior and silence this warning, please use dropout "
                      f"instead. Note that {name} exists to provide channel-wise dropout on inputs with {spatial} "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. "
                      f"{spatial + 1}D or {spatial + 2}D inputs).", stacklevel=3)


def _dropped(input: Tensor, p: float, training: bool, inplace: bool, feature: bool, alpha: bool) -> Tensor:
    """PyTorch's `_dropout_impl`: the identity outside training (or for p = 0 or an empty
    input), zeros for p = 1, else the input times a kept-with-1-p mask, rescaled."""
    if p == 0 or not training or not input.numel():
        return input
    if feature and input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if p == 1:
        result = input * zeros_like(input)
        return write_result(input, result) if inplace else result
    shape = (*input.shape[:2], *(1,) * (input.ndim - 2)) if feature else tuple(input.shape)
    kept = random.bernoulli_mask(shape, 1.0 - p).to(input.dtype)
    if alpha:
        scale = 1.0 / math.sqrt((SELU_ALPHA * SELU_ALPHA * p + 1) * (1 - p))
        shift = (kept - 1) * (SELU_ALPHA * scale) + SELU_ALPHA * scale * p
        result = input * (kept * scale) + shift
    else:
        result = input * (kept / (1.0 - p))
    return write_result(input, result) if inplace else result


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zeroes whole channels of an [N, C, H, W] (or [N, C, L]) input with probability `p`,
    scaling the rest by 1/(1-p), in training; the identity otherwise.

        >>> import nablax.stateful as torch
        >>> x = torch.ones(2, 3, 4, 4)
        >>> torch.nn.functional.dropout2d(x, 0.5, training=False) is x
        True
    """
    _check_probability(p)
    _warn_of_rank(input, "dropout2d", spatial=2)
    if input.ndim == 3:  # PyTorch's historical reading: [N, C, L], not an unbatched [C, H, W]
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                      "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior "
                      "will change in a future release to interpret the input as one without a batch dimension, i.e. "
                      "shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using "
                      "dropout1d instead.", stacklevel=2)
    return _dropped(input, p, training, inplace, feature=True, alpha=False)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zeroes whole channels of an [N, C, D, H, W] (or unbatched [C, D, H, W]) input with
    probability `p`, scaling the rest by 1/(1-p), in training; the identity otherwise."""
    _check_probability(p)
    _warn_of_rank(input, "dropout3d", spatial=3)
    if input.ndim == 5:
        return _dropped(input, p, training, inplace, feature=True, alpha=False)
    if not training or p == 0:
        return input
    result = _dropped(input.unsqueeze(0), p, training, False, feature=True, alpha=False).squeeze(0)
    return write_result(input, result) if inplace else result


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False):
    """Dropout for SELU networks: dropped elements are set to SELU's negative saturation and
    the result is scaled and shifted to keep a zero mean and unit variance."""
    _check_probability(p)
    return _dropped(input, p, training, inplace, feature=False, alpha=True)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False):
    """`alpha_dropout` of whole channels (the dimensions after the first two share a draw)."""
    _check_probability(p)
    return _dropped(input, p, training, inplace, feature=True, alpha=True)
