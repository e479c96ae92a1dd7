"""`nn.functional.batch_norm`, `layer_norm`, `rms_norm` and `group_norm`: PyTorch's checks and
messages, recorded as one op whose math is `nablax.nn.batch_norm`/`layer_norm`/`rms_norm`/`group_norm`.

Batch normalisation in training updates the running statistics in place, as PyTorch does.
The output and the new statistics come from one multi-output op; the output is returned
with its gradient edges and the statistics are written into their tensors without any.
"""

from __future__ import annotations

import math
import weakref

from ... import nn as pure
from ..engine import Op, no_grad
from ..ops import linalg
from ..recording import output, record, record_expr
from ..tensor import Tensor
from ._checks import check_parameter_dtypes, is_int, optional_operands, require_floating, sizes, with_optional


def _batch_norm_output(*operands, **static):
    return pure.batch_norm(*operands, **static)[0]


# The op that updates running statistics returns (output, mean, var, count); the other only the output.
BATCH_NORM_WITH_STATISTICS = Op("batch_norm_with_statistics", with_optional(pure.batch_norm, required=1))
BATCH_NORM = Op("batch_norm", with_optional(_batch_norm_output, required=1))
LAYER_NORM = Op("layer_norm", with_optional(pure.layer_norm, required=1))
GROUP_NORM = Op("group_norm", with_optional(pure.group_norm, required=1))

_DIFFERENTIABLE = {"weight": True, "bias": True}  # the others: running statistics and the counter


def _verify_batch_size(size, shown) -> None:
    """More than one value per channel, which batch statistics need (`shown` is the size as
    PyTorch prints it in the message)."""
    if size[0] * math.prod(size[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {shown}")


def _check_batch_norm(input, running_mean, running_var, weight, bias, training: bool, eps: float) -> None:
    if training:
        _verify_batch_size(input.shape, input.shape)
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be None")
    channels = input.shape[1] if input.ndim > 1 else 0
    named = (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias))
    for name, tensor in named:
        if tensor is None and name.startswith("running") and not training:
            raise RuntimeError(f"{name} must be defined in evaluation mode")
        if tensor is not None and tensor.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {tensor.numel()}")
    require_floating("batch_norm", input)
    check_parameter_dtypes(input, running_mean, running_var, weight, bias)


def batch_norm(input: Tensor, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5):
    """Normalises (N, C, ...) per channel: with the batch's statistics in training (updating
    `running_mean`/`running_var` in place with `momentum`), with the running ones otherwise
    (`nablax.nn.batch_norm`)."""
    if momentum is None:
        raise TypeError("batch_norm(): argument 'momentum' (position 7) must be float, not NoneType")
    return tracked_batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def tracked_batch_norm(input: Tensor, running_mean, running_var, weight, bias, training: bool, momentum, eps: float,
                       num_batches_tracked=None):
    """`batch_norm` that also counts batches in `num_batches_tracked` when it updates the
    running statistics; `momentum=None` then averages over all batches so far (BatchNorm's
    modules)."""
    _check_batch_norm(input, running_mean, running_var, weight, bias, training, eps)
    if momentum is None and num_batches_tracked is None:
        momentum = 0.0  # PyTorch's factor for a cumulative average without a counter
    updates = training and running_mean is not None
    operands, present = optional_operands(running_mean=running_mean, running_var=running_var, weight=weight,
                                          bias=bias, num_batches_tracked=num_batches_tracked if updates else None)
    static = (("training", bool(training)), ("momentum", None if momentum is None else float(momentum)),
              ("eps", float(eps)), ("present", present))
    differentiable = (True,) + tuple(_DIFFERENTIABLE.get(name, False) for name, given in present if given)
    if not updates:
        return record(BATCH_NORM, (input, *operands), input.shape, input.dtype.numpy, "NativeBatchNormBackward0",
                      static, differentiable=differentiable)
    statistics = (running_mean, running_var, num_batches_tracked)
    shapes = (tuple(input.shape), *(tuple(s.shape) if s is not None else () for s in statistics))
    expr, device = record_expr(BATCH_NORM_WITH_STATISTICS, (input, *operands), shapes, None, "NativeBatchNormBackward0",
                               static, differentiable=differentiable)
    # Keep the op's values while the statistics live, as optimizers keep their updates:
    # reading the statistics after the backward pass then costs nothing, instead of a
    # second forward pass.
    expr.owner = weakref.ref(running_mean._storage)
    with no_grad():
        for index, tensor in enumerate(statistics, start=1):
            if tensor is not None:
                tensor._write(output(expr, index, tensor.shape, tensor.dtype.numpy, False, "NativeBatchNormBackward0"))
    return Tensor._from_expr(output(expr, 0, input.shape, input.dtype.numpy, expr.requires_grad, "NativeBatchNormBackward0"),
                             device)


def _normalized_shape(function: str, input: Tensor, normalized_shape, star: str, **parameters) -> tuple:
    """PyTorch's checks of `normalized_shape`, of the parameters' shapes and of the input's
    trailing dimensions (its layer_norm writes the expected shape `[*, 4]`, rms_norm `[*4]`)."""
    if not isinstance(normalized_shape, (tuple, list)):
        raise TypeError(f"{function}(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
                        f"{type(normalized_shape).__name__}")
    for position, size in enumerate(normalized_shape):
        if not is_int(size):
            raise TypeError(f"{function}(): argument 'normalized_shape' (position 2) must be tuple of ints, but found "
                            f"element of type {type(size).__name__} at pos {position}")
    shape = tuple(int(size) for size in normalized_shape)
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           "element, but got normalized_shape = []")
    for name, tensor in parameters.items():
        if tensor is not None and tuple(tensor.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{sizes(tensor.shape)} and normalized_shape = {sizes(shape)}")
    if input.ndim < len(shape) or tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise RuntimeError(f"Given normalized_shape={sizes(shape)}, expected input with shape [*{star}"
                           f"{', '.join(map(str, shape))}], but got input of size{sizes(input.shape)}")
    return shape


def layer_norm(input: Tensor, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """Normalises over the last `len(normalized_shape)` dimensions (`nablax.nn.layer_norm`)."""
    shape = _normalized_shape("layer_norm", input, normalized_shape, ", ", weight=weight, bias=bias)
    require_floating("LayerNormKernelImpl", input)
    check_parameter_dtypes(input, weight, bias)
    operands, present = optional_operands(weight=weight, bias=bias)
    static = (("normalized_shape", shape), ("eps", float(eps)), ("present", present))
    return record(LAYER_NORM, (input, *operands), input.shape, input.dtype.numpy, "NativeLayerNormBackward0", static)


def _rms_norm(x, weight=None, *, normalized_shape, eps):
    # PyTorch's result has the input's dtype, whatever the weight's.
    return pure.rms_norm(x, normalized_shape, None if weight is None else weight.astype(x.dtype), eps)


RMS_NORM = Op("rms_norm", with_optional(_rms_norm, required=1))


def rms_norm(input: Tensor, normalized_shape, weight=None, eps: float | None = None):
    """x / sqrt(mean(x^2) + eps) over the last `len(normalized_shape)` dimensions, times
    `weight`; `eps` defaults to the input dtype's machine epsilon (`nablax.nn.rms_norm`)."""
    shape = _normalized_shape("rms_norm", input, normalized_shape, "", weight=weight)
    require_floating("rms_norm", input)
    operands, present = optional_operands(weight=weight)
    static = (("normalized_shape", shape), ("eps", None if eps is None else float(eps)), ("present", present))
    return record(RMS_NORM, (input, *operands), input.shape, input.dtype.numpy, "MulBackward0", static)


def group_norm(input: Tensor, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """Normalises (N, C, ...) over groups of C / num_groups channels (`nablax.nn.group_norm`)."""
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    grouped = [input.shape[0] * input.shape[1] // num_groups, num_groups, *input.shape[2:]]
    _verify_batch_size(grouped, grouped)
    channels = input.shape[1]
    if channels % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, but got input of shape "
                           f"{sizes(input.shape)} and num_groups={num_groups}")
    for name, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and (tensor.ndim != 1 or tensor.numel() != channels):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, but "
                               f"got {name} of shape {sizes(tensor.shape)} and input of shape {sizes(input.shape)}")
    require_floating("GroupNormKernelImpl", input)
    check_parameter_dtypes(input, weight, bias)
    operands, present = optional_operands(weight=weight, bias=bias)
    static = (("num_groups", int(num_groups)), ("eps", float(eps)), ("present", present))
    return record(GROUP_NORM, (input, *operands), input.shape, input.dtype.numpy, "NativeGroupNormBackward0", static)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """`input` divided by its `p`-norm along `dim` (at least `eps`), as PyTorch computes it.

        >>> import nablax.stateful as torch
        >>> torch.nn.functional.normalize(torch.tensor([[3.0, 4.0]])).tolist()
        [[0.6000000238418579, 0.800000011920929]]
    """
    return input / linalg.vector_norm(input, p, dim, keepdim=True).clamp_min(eps).expand_as(input)
