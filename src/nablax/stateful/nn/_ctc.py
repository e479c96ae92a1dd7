"""`nn.functional.ctc_loss`: PyTorch's checks and argument forms (lengths as lists or
tensors, targets padded [N, S] or concatenated), recorded as one op whose math is
`nablax.losses.ctc`."""

from __future__ import annotations

import numpy as np

from ... import losses as L
from ..engine import Op
from ..ops.creation import tensor as make_tensor
from ..recording import record
from ..tensor import Tensor
from ._checks import known_value
from ._losses import _check_reduction

CTC = Op("ctc_loss", lambda lp, targets, input_lengths, target_lengths, *, blank, reduction, zero_infinity: L.ctc(
    lp, targets, input_lengths, target_lengths, blank, reduction, zero_infinity))


def _lengths(lengths, samples: int, name: str) -> tuple[Tensor, np.ndarray]:
    """The lengths as an int64 tensor and their values (PyTorch reads them to check them)."""
    tensor = lengths if isinstance(lengths, Tensor) else make_tensor(lengths, dtype=None)
    tensor = tensor.reshape(-1).long()
    if tensor.shape[0] != samples:
        raise RuntimeError(f"{name} must be of size batch_size")
    values = known_value(tensor)
    return tensor, np.asarray(tensor._value() if values is None else values)


def _padded_targets(targets: Tensor, lengths: np.ndarray) -> Tensor:
    """Concatenated targets as rows padded to the longest (the padding is never read)."""
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    width = max(int(lengths.max(initial=0)), 1)
    positions = np.minimum(starts[:, None] + np.arange(width)[None], max(targets.shape[0] - 1, 0))
    return targets[make_tensor(positions.astype(np.int64))]


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False):
    """The connectionist temporal classification loss of log-probabilities [T, N, C] (or
    unbatched [T, C]) against target label sequences (`nablax.losses.ctc`).

        >>> import nablax.stateful as torch
        >>> log_probs = torch.full((2, 1, 2), 0.5).log()
        >>> round(torch.nn.functional.ctc_loss(log_probs, torch.tensor([[1]]), [2], [1]).item(), 4)
        0.2877
    """
    _check_reduction(reduction)
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs, targets = log_probs.unsqueeze(1), targets.unsqueeze(0)
    steps, samples = log_probs.shape[:2]
    input_lengths, input_values = _lengths(input_lengths, samples, "input_lengths")
    target_lengths, target_values = _lengths(target_lengths, samples, "target_lengths")
    if input_values.size and input_values.max() > steps:
        raise RuntimeError(f"Expected input_lengths to have value at most {steps}, but got value "
                           f"{int(input_values.max())} (while checking arguments for ctc_loss_allocate_outputs)")
    if targets.ndim == 1:
        targets = _padded_targets(targets, target_values)
    elif target_values.size and target_values.max() > targets.shape[1]:
        raise RuntimeError(f"Expected tensor to have size at least {int(target_values.max())} at dimension 1, but got "
                           f"size {targets.shape[1]} for argument #2 'targets' (while checking arguments for "
                           "ctc_loss_allocate_outputs)")
    name = {"none": "CtcLossBackward0", "sum": "SumBackward0", "mean": "MeanBackward0"}[reduction]
    loss = record(CTC, (log_probs, targets.long(), input_lengths, target_lengths),
                  (samples,) if reduction == "none" else (), log_probs.dtype.numpy, name,
                  (("blank", int(blank)), ("reduction", reduction), ("zero_infinity", bool(zero_infinity))),
                  differentiable=(True, False, False, False))
    return loss.squeeze(0) if unbatched and reduction == "none" else loss
