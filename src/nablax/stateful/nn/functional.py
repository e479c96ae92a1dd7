"""`torch.nn.functional` over the functional face: each function records one op whose math
is the pure function of `nablax.nn` or `nablax.losses` (one implementation of the math),
with PyTorch's argument checks, warnings and backward-node names."""

from __future__ import annotations

import warnings

import numpy as np

from ... import nn as pure
from .. import dtypes as dt
from ..engine import Op
from ..ops import elementwise
from ..ops import random
from ..ops import reductions as R
from ..ops import shape as S
from ..recording import record
from ..tensor import Tensor
from ._adaptive_pool import adaptive_avg_pool1d as adaptive_avg_pool1d
from ._adaptive_pool import adaptive_avg_pool2d as adaptive_avg_pool2d
from ._adaptive_pool import adaptive_max_pool1d as adaptive_max_pool1d
from ._adaptive_pool import adaptive_max_pool2d as adaptive_max_pool2d
from ._activation import celu as celu
from ._activation import elu as elu
from ._activation import glu as glu
from ._activation import hardshrink as hardshrink
from ._activation import hardsigmoid as hardsigmoid
from ._activation import hardswish as hardswish
from ._activation import hardtanh as hardtanh
from ._activation import leaky_relu as leaky_relu
from ._activation import logsigmoid as logsigmoid
from ._activation import mish as mish
from ._activation import prelu as prelu
from ._activation import relu6 as relu6
from ._activation import rrelu as rrelu
from ._activation import selu as selu
from ._activation import silu as silu
from ._activation import softplus as softplus
from ._activation import softshrink as softshrink
from ._activation import softsign as softsign
from ._activation import tanhshrink as tanhshrink
from ._activation import threshold as threshold
from ._checks import known_value, optional_operands, with_optional
from ._attention import scaled_dot_product_attention as scaled_dot_product_attention
from ._conv import conv1d as conv1d
from ._conv import conv2d as conv2d
from ._ctc import ctc_loss as ctc_loss
from ._dropout import alpha_dropout as alpha_dropout
from ._dropout import dropout2d as dropout2d
from ._dropout import dropout3d as dropout3d
from ._dropout import feature_alpha_dropout as feature_alpha_dropout
from ._embedding import embedding as embedding
from ._embedding import embedding_bag as embedding_bag
from ._distances import cosine_similarity as cosine_similarity
from ._distances import pairwise_distance as pairwise_distance
from ._distances import pdist as pdist
from ._conv import conv3d as conv3d
from ._conv_transpose import conv_transpose1d as conv_transpose1d
from ._conv_transpose import conv_transpose2d as conv_transpose2d
from ._conv_transpose import conv_transpose3d as conv_transpose3d
from ._fold import fold as fold
from ._fold import unfold as unfold
from ._local_norms import instance_norm as instance_norm
from ._local_norms import local_response_norm as local_response_norm
from ._losses import binary_cross_entropy as binary_cross_entropy
from ._losses import binary_cross_entropy_with_logits as binary_cross_entropy_with_logits
from ._losses import cross_entropy as cross_entropy
from ._losses import huber_loss as huber_loss
from ._losses import kl_div as kl_div
from ._losses import l1_loss as l1_loss
from ._losses import mse_loss as mse_loss
from ._losses import nll_loss as nll_loss
from ._losses import smooth_l1_loss as smooth_l1_loss
from ._likelihood_losses import gaussian_nll_loss as gaussian_nll_loss
from ._likelihood_losses import multilabel_soft_margin_loss as multilabel_soft_margin_loss
from ._likelihood_losses import poisson_nll_loss as poisson_nll_loss
from ._likelihood_losses import soft_margin_loss as soft_margin_loss
from ._margin_losses import cosine_embedding_loss as cosine_embedding_loss
from ._margin_losses import hinge_embedding_loss as hinge_embedding_loss
from ._margin_losses import margin_ranking_loss as margin_ranking_loss
from ._margin_losses import multi_margin_loss as multi_margin_loss
from ._margin_losses import multilabel_margin_loss as multilabel_margin_loss
from ._margin_losses import triplet_margin_loss as triplet_margin_loss
from ._margin_losses import triplet_margin_with_distance_loss as triplet_margin_with_distance_loss
from ._norm import batch_norm as batch_norm
from ._norm import group_norm as group_norm
from ._norm import layer_norm as layer_norm
from ._norm import normalize as normalize
from ._norm import rms_norm as rms_norm
from ._padding import pad as pad
from ._pool import avg_pool1d as avg_pool1d
from ._pool import avg_pool2d as avg_pool2d
from ._pool import max_pool1d as max_pool1d
from ._pool import max_pool2d as max_pool2d
from ._pool import max_unpool1d as max_unpool1d
from ._pool import max_unpool2d as max_unpool2d
from ._pool import max_unpool3d as max_unpool3d
from ._pool3d import adaptive_avg_pool3d as adaptive_avg_pool3d
from ._pool3d import adaptive_max_pool3d as adaptive_max_pool3d
from ._pool3d import avg_pool3d as avg_pool3d
from ._pool3d import max_pool3d as max_pool3d
from ._resample import grid_sample as grid_sample
from ._resample import interpolate as interpolate
from ._resample import upsample as upsample
from ._resample import upsample_bilinear as upsample_bilinear
from ._resample import upsample_nearest as upsample_nearest
from ._shuffle import channel_shuffle as channel_shuffle
from ._shuffle import pixel_shuffle as pixel_shuffle
from ._shuffle import pixel_unshuffle as pixel_unshuffle

relu, sigmoid, tanh = elementwise.relu, elementwise.sigmoid, elementwise.tanh


def _implicit_softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's legacy choice of dim when none is given, with its deprecation warning."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an "
                  "argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None):
    """exp(x) / sum(exp(x)) along `dim` (`nablax.nn.softmax`)."""
    if dim is None:
        dim = _implicit_softmax_dim("softmax", input.ndim, _stacklevel)
    return R.softmax(input, dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None):
    """log(softmax(x)) along `dim`, computed stably (`nablax.nn.log_softmax`)."""
    if dim is None:
        dim = _implicit_softmax_dim("log_softmax", input.ndim, _stacklevel)
    return R.log_softmax(input, dim, dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None):
    """softmax(-x) along `dim`, as PyTorch defines it (and so with its errors and grad_fn)."""
    if dim is None:
        dim = _implicit_softmax_dim("softmin", input.ndim, _stacklevel)
    return R.softmax(elementwise.neg(input), dim, dtype)


def _op(name: str, fn) -> Op:
    return Op(name, fn)


LINEAR = _op("linear", pure.linear)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None):
    """`input @ weight.T + bias` (`nablax.nn.linear`)."""
    # Shapes and dtypes straight from the exprs: this runs once per layer per step.
    x, w = input._current_expr(), weight._current_expr()
    in_features = w.shape[-1]
    if x.shape[-1:] != (in_features,):
        rows = int(np.prod(x.shape[:-1])) if len(x.shape) > 1 else 1
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{x.shape[-1] if x.shape else 1} and "
            f"{in_features}x{w.shape[0]})"
        )
    if x.dtype != w.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {input.dtype.scalar_name} and {weight.dtype.scalar_name}")
    shape = x.shape[:-1] + (w.shape[0],)
    if bias is None:
        name = {1: "SqueezeBackward4", 2: "MmBackward0"}.get(len(x.shape), "UnsafeViewBackward0")
        return record(LINEAR, (input, weight), shape, w.dtype, name)
    name = "AddmmBackward0" if len(x.shape) == 2 else "ViewBackward0"
    return record(LINEAR, (input, weight, bias), shape, w.dtype, name)


BILINEAR = _op("bilinear", with_optional(pure.bilinear, required=3))


def _check_bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias) -> None:
    """PyTorch's checks, in its order."""
    if input1.ndim != input2.ndim:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.ndim} and {input2.ndim}")
    for dim in range(input1.ndim - 1):
        if input1.shape[dim] != input2.shape[dim]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match: got {input1.shape[dim]} and "
                               f"{input2.shape[dim]}")
    if weight.ndim != 3:
        raise IndexError(f"Dimension out of range (expected to be in range of [-{weight.ndim}, {weight.ndim - 1}], "
                         "but got 2)")
    for which, tensor, dim in (("input1", input1, 1), ("input2", input2, 2)):
        if tensor.shape[-1] != weight.shape[dim]:
            raise RuntimeError(f"bilinear(): {which} size does not match weight size: got {tensor.shape[-1]} but "
                               f"expected {weight.shape[dim]}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {bias.shape[-1]} but expected "
                           f"{weight.shape[0]}")
    if len({input1.dtype, input2.dtype, weight.dtype}) != 1:
        raise RuntimeError(f"All tensors must have the same dtype, got input1: {input1.dtype.cpp_name}, "
                           f"input2: {input2.dtype.cpp_name}, weight: {weight.dtype.cpp_name}")


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None):
    """`input1 @ weight[o] @ input2 + bias[o]` for each output feature o (`nablax.nn.bilinear`).

        >>> import nablax.stateful as torch
        >>> torch.nn.functional.bilinear(torch.ones(1, 2), torch.ones(1, 3), torch.ones(4, 2, 3)).tolist()
        [[6.0, 6.0, 6.0, 6.0]]
    """
    _check_bilinear(input1, input2, weight, bias)
    operands, present = optional_operands(bias=bias)
    shape = (*input1.shape[:-1], weight.shape[0])
    return record(BILINEAR, (input1, input2, weight, *operands), shape, weight.dtype.numpy,
                  "ViewBackward0" if bias is None else "AddBackward0", (("present", present),))


GELU = _op("gelu", lambda x, *, approximate: pure.gelu(x, approximate))


def gelu(input: Tensor, approximate: str = "none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return record(GELU, (input,), input.shape, input.dtype.numpy, "GeluBackward0", (("approximate", approximate),))


DROPOUT = _op("dropout", lambda x, seed, counter, *, p: pure.dropout(x, p, random.key_of(seed, counter), train=True))


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zeroes elements with probability `p` (drawn from the global stream) and scales the
    rest by 1/(1-p), in training; the identity otherwise."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    seed, counter = random.default_generator.next_draw()
    return record(DROPOUT, (input, seed, counter), input.shape, input.dtype.numpy, "MulBackward0", (("p", float(p)),))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1):
    return S.flatten(input, start_dim, end_dim)


ONE_HOT = _op("one_hot", pure.one_hot)


def _one_hot_classes(tensor: Tensor, num_classes: int) -> int:
    """PyTorch's checks of the class values, which it reads eagerly: values already known
    are read here; with `num_classes=-1` they are computed, as advanced indexing does."""
    if not tensor.numel():
        if num_classes <= 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        return num_classes
    values = np.asarray(tensor._value()) if num_classes == -1 else known_value(tensor)
    if values is None:
        return num_classes  # pending: an index out of range gives a row of zeros
    values = np.asarray(values)
    if values.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        return int(values.max()) + 1
    if num_classes <= values.max():
        raise RuntimeError("Class values must be smaller than num_classes.")
    return num_classes


def one_hot(tensor: Tensor, num_classes: int = -1):
    """int64 one-hot rows for the class indices `tensor` (`nablax.nn.one_hot`); `num_classes=-1`
    takes the largest value plus one."""
    if tensor.dtype is not dt.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    num_classes = _one_hot_classes(tensor, int(num_classes))
    return record(ONE_HOT, (tensor,), (*tensor.shape, num_classes), np.dtype(np.int64), None,
                  (("num_classes", num_classes),), differentiable=False)
