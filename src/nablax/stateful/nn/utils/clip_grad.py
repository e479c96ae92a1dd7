"""`torch.nn.utils.clip_grad_norm_`, `clip_grad_value_`, `get_total_norm` and
`clip_grads_with_norm_`: each records one op over all the gradients (whose math is
`nablax.clipping`) and writes its outputs into the `.grad` tensors in place, as an
optimizer writes its parameters. The numbers (`max_norm`, `clip_value`) are arguments of
the compiled program, so a training loop that clips compiles nothing new per step.
`foreach` is accepted and ignored: there is one implementation."""

from __future__ import annotations

import math
import types
import warnings

import numpy as np

from .... import clipping
from ...engine import Op, no_grad
from ...ops.creation import tensor as make_tensor
from ...recording import record, record_expr
from ...tensor import Tensor
from ...recording import output

TOTAL_NORM = Op("total_norm", lambda *tensors, norm_type: clipping.total_norm(tensors, norm_type))
CLIP_TO_NORM = Op("clip_grads_with_norm", lambda norm, max_norm, *grads: clipping.clip_to_norm(grads, max_norm, norm))
CLIP_VALUE = Op("clip_grad_value", lambda clip_value, *grads: clipping.clip_grad_value(grads, clip_value))


def _as_list(tensors) -> list:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _grads(parameters) -> list[Tensor]:
    return [p.grad for p in parameters if p.grad is not None]


def _rewrite(op: Op, grads: list[Tensor], leading: tuple) -> None:
    """Records `op(*leading, *grads)`, which returns the new gradients, and writes them into
    the `.grad` tensors: one multi-output op, however many gradients."""
    with no_grad():
        expr, _ = record_expr(op, (*leading, *grads), tuple(tuple(g.shape) for g in grads), None, None)
        for index, grad in enumerate(grads):
            grad._write(output(expr, index, grad.shape, grad.dtype.numpy, False, None))


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """The `norm_type`-norm of all `tensors` together (the norm of their norms), as a 0-d
    tensor; with `error_if_nonfinite`, a NaN or infinite norm raises (which reads its value)."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return make_tensor(0.0)
    dtype = np.result_type(*(t.dtype.numpy for t in tensors))
    with no_grad():
        norm = record(TOTAL_NORM, tensors, (), dtype, None, (("norm_type", norm_type),))
    if error_if_nonfinite and not math.isfinite(norm.item()):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
                           "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
                           "anyway, set `error_if_nonfinite=False`")
    return norm


def clip_grads_with_norm_(parameters, max_norm: float, total_norm: Tensor, foreach=None) -> None:
    """Scales the parameters' gradients in place by max_norm / (total_norm + 1e-6), where that is below 1."""
    grads = _grads(_as_list(parameters))
    if grads:
        _rewrite(CLIP_TO_NORM, grads, (total_norm, float(max_norm)))


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Scales the parameters' gradients in place so that their total `norm_type`-norm is at
    most `max_norm`, and returns their total norm before clipping (a 0-d tensor)."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", UserWarning,
                          stacklevel=2)
    norm = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, norm)
    return norm


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """The deprecated name of `clip_grad_norm_`."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clips each element of the parameters' gradients to [-clip_value, clip_value], in place."""
    grads = _grads(_as_list(parameters))
    if grads:
        _rewrite(CLIP_VALUE, grads, (float(clip_value),))
