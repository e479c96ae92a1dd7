"""`nn.functional.instance_norm` and `local_response_norm`: PyTorch's checks and messages.

`instance_norm` records one op whose math is `nablax.nn.instance_norm`; with running
statistics in training, their new values are outputs of the same op, written into the
tensors in place without gradient edges (as `batch_norm` does). `local_response_norm` is
PyTorch's own composition of `pad` and average pooling of the squares.
"""

from __future__ import annotations

import math

from ... import nn as pure
from ..engine import Op, no_grad
from ..recording import output, record_expr
from ..tensor import Tensor
from ._checks import check_parameter_dtypes, optional_operands, require_floating, with_optional
from ._padding import pad
from ._pool import avg_pool2d
from ._pool3d import avg_pool3d

INSTANCE_NORM = Op("instance_norm", with_optional(pure.instance_norm, required=1))
_DIFFERENTIABLE = {"weight": True, "bias": True}


def _check_instance_norm(input: Tensor, running_mean, running_var, weight, bias, use_input_stats: bool) -> None:
    if use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"torch.Size({list(input.shape)})")
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
    channels = input.shape[1]
    for name, tensor, expected in (("weight", weight, channels), ("bias", bias, channels),
                                   ("running_mean", running_mean, channels), ("running_var", running_var, channels)):
        if tensor is not None and tensor.numel() != expected:
            count = expected * input.shape[0] if name.startswith("running") else expected
            raise RuntimeError(f"{name} should contain {count} elements not {tensor.numel() * input.shape[0]}")
    require_floating("batch_norm", input)
    check_parameter_dtypes(input, running_mean, running_var, weight, bias)


def instance_norm(input: Tensor, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalises each (sample, channel) of (N, C, ...) over its other dimensions; with running
    statistics and `use_input_stats`, updates them in place (`nablax.nn.instance_norm`).

        >>> import nablax.stateful as torch
        >>> torch.nn.functional.instance_norm(torch.tensor([[[1.0, 3.0]]])).tolist()
        [[[-0.9999949932098389, 0.9999949932098389]]]
    """
    _check_instance_norm(input, running_mean, running_var, weight, bias, use_input_stats)
    operands, present = optional_operands(running_mean=running_mean, running_var=running_var, weight=weight, bias=bias)
    static = (("use_input_stats", bool(use_input_stats)), ("momentum", float(momentum)), ("eps", float(eps)),
              ("present", present))
    differentiable = (True,) + tuple(_DIFFERENTIABLE.get(name, False) for name, given in present if given)
    statistics = (running_mean, running_var) if running_mean is not None and use_input_stats else ()
    shapes = (tuple(input.shape), *(tuple(s.shape) if s is not None else () for s in (running_mean, running_var)))
    expr, device = record_expr(INSTANCE_NORM, (input, *operands), shapes, None, "ViewBackward0", static,
                               differentiable=differentiable)
    with no_grad():
        for index, tensor in enumerate(statistics, start=1):
            tensor._write(output(expr, index, tensor.shape, tensor.dtype.numpy, False, "ViewBackward0"))
    return Tensor._from_expr(output(expr, 0, input.shape, input.dtype.numpy, expr.requires_grad, "ViewBackward0"),
                             device)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """Divides each element by (k + alpha * mean of the squares of `size` neighbouring
    channels) ** beta, as PyTorch composes it.

        >>> import nablax.stateful as torch
        >>> torch.nn.functional.local_response_norm(torch.ones(1, 2, 1), 2, alpha=1.0).tolist()
        [[[0.7377879619598389], [0.5946035385131836]]]
    """
    dim = input.ndim
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    div = input.mul(input)
    if dim == 3:
        div = pad(div.unsqueeze(1), (0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = input.shape
        div = pad(div.view(sizes[0], 1, sizes[1], sizes[2], -1), (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = avg_pool3d(div, (size, 1, 1), stride=1).squeeze(1).view(sizes)
    return input / div.mul(alpha).add(k).pow(beta)
