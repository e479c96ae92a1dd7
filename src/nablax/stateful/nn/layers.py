"""The convolution, normalisation (batch, layer, RMS, group) and embedding layers of
`torch.nn`, each a thin `Module` over `nn.functional`: PyTorch's constructors, parameter
and buffer names, layouts and reprs, with initial values drawn by the functional face's
`init`."""

from __future__ import annotations

import collections.abc
import itertools
import numbers

from ... import nn as pure
from .. import dtypes as dt
from .. import engine
from ..engine import no_grad
from ..tensor import Tensor
from . import functional as F
from ._checks import padding_index, reject_unsupported
from ._initial import initial_parameters
from ._norm import tracked_batch_norm
from .module import Module
from .modules import _parameter
from .parameter import Parameter


def _numpy_dtype(dtype):
    """The NumPy dtype for a `dtype=` argument (the default float type when None)."""
    return (dt.as_dtype(dtype) if dtype is not None else dt.get_default_dtype()).numpy


def _register_parameters(module: Module, params: dict, names: tuple[str, ...], device) -> None:
    """Registers each of `names` as a parameter, in order (None where `params` lacks it)."""
    for name in names:
        module.register_parameter(name, _parameter(params[name], device) if name in params else None)


def _buffer(array, device=None) -> Tensor:
    tensor = Tensor._from_expr(engine.source(array))
    return tensor if device is None else tensor.to(device)


def _ntuple(value, n: int) -> tuple:
    """PyTorch's `_single`/`_pair`: an iterable as a tuple, anything else repeated `n` times."""
    return tuple(value) if isinstance(value, collections.abc.Iterable) else tuple(itertools.repeat(value, n))


# -- convolutions -------------------------------------------------------------------------------


class _ConvNd(Module):
    _spatial_dims: int
    _functional = None
    _pure_layer: type

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        n = self._spatial_dims
        kernel_size, stride, dilation = _ntuple(kernel_size, n), _ntuple(stride, n), _ntuple(dilation, n)
        if isinstance(padding, str):
            # PyTorch's set literals, so that messages list them in PyTorch's order.
            valid_padding_strings = {"same", "valid"}
            if padding not in valid_padding_strings:
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {valid_padding_strings}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        else:
            padding = _ntuple(padding, n)
        valid_padding_modes = {"zeros", "reflect", "replicate", "circular"}
        if padding_mode not in valid_padding_modes:
            raise ValueError(f"padding_mode must be one of {valid_padding_modes}, but got padding_mode='{padding_mode}'")
        reject_unsupported(type(self).__name__, padding_mode=(padding_mode, "zeros"))
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        self.transposed, self.output_padding, self.padding_mode = False, (0,) * n, padding_mode
        layer = self._pure_layer(in_channels, out_channels, kernel_size, groups=groups, bias=bias,
                                 dtype=_numpy_dtype(dtype))
        _register_parameters(self, initial_parameters(layer), ("weight", "bias"), device)

    def forward(self, input):
        return type(self)._functional(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                                      self.groups)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            text += f", padding={self.padding}"  # a string prints bare: padding=same
        if self.dilation != (1,) * len(self.dilation):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text if self.bias is not None else text + ", bias=False"


class Conv1d(_ConvNd):
    """A 1-D convolution over (N, C, L) or (C, L); weight `[out, in / groups, k]`, bias `[out]`."""

    _spatial_dims = 1
    _functional = staticmethod(F.conv1d)
    _pure_layer = pure.Conv1d


class Conv2d(_ConvNd):
    """A 2-D convolution over (N, C, H, W) or (C, H, W); weight `[out, in / groups, kH, kW]`, bias `[out]`."""

    _spatial_dims = 2
    _functional = staticmethod(F.conv2d)
    _pure_layer = pure.Conv2d


class Conv3d(_ConvNd):
    """A 3-D convolution over (N, C, D, H, W) or (C, D, H, W); weight `[out, in / groups, kD, kH, kW]`."""

    _spatial_dims = 3
    _functional = staticmethod(F.conv3d)
    _pure_layer = pure.Conv3d


# -- normalisation ---------------------------------------------------------------------------------


class _BatchNorm(Module):
    """Batch normalisation with PyTorch's buffers `running_mean`, `running_var` and
    `num_batches_tracked` (int64), updated in place by `forward` in training mode."""

    _pure_layer: type

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        layer = self._pure_layer(num_features, eps, momentum, affine, track_running_stats, bias=bias,
                                 dtype=_numpy_dtype(dtype))
        _register_parameters(self, initial_parameters(layer), ("weight", "bias"), device)
        state = layer.init_state()
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            self.register_buffer(name, _buffer(state[name], device) if name in state else None)

    def _check_input_dim(self, input) -> None:
        raise NotImplementedError

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            with no_grad():
                self.weight.fill_(1)
                if self.bias is not None:
                    self.bias.zero_()

    def forward(self, input):
        self._check_input_dim(input)
        # PyTorch's rules: batch statistics in training, or whenever there are no running ones;
        # the buffers are updated (and counted) only in training with track_running_stats.
        batch_statistics = self.training or (self.running_mean is None and self.running_var is None)
        use_buffers = not self.training or self.track_running_stats
        counter = self.num_batches_tracked if self.training and self.track_running_stats else None
        return tracked_batch_norm(input, self.running_mean if use_buffers else None,
                                  self.running_var if use_buffers else None, self.weight, self.bias,
                                  batch_statistics, self.momentum, self.eps, counter)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L)."""

    _pure_layer = pure.BatchNorm1d

    def _check_input_dim(self, input) -> None:
        if input.ndim not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W)."""

    _pure_layer = pure.BatchNorm2d

    def _check_input_dim(self, input) -> None:
        if input.ndim != 4:
            raise ValueError(f"expected 4D input (got {input.ndim}D input)")


class LayerNorm(Module):
    """Normalises over the last dimensions, `normalized_shape`; weight ones and bias zeros of that shape."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        layer = pure.LayerNorm(self.normalized_shape, eps, elementwise_affine, bias, dtype=_numpy_dtype(dtype))
        _register_parameters(self, initial_parameters(layer), ("weight", "bias"), device)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """Divides by the root mean square over the last dimensions, `normalized_shape`, times a
    weight of ones; `eps=None` means the input dtype's machine epsilon."""

    def __init__(self, normalized_shape, eps: float | None = None, elementwise_affine: bool = True, device=None,
                 dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        layer = pure.RMSNorm(self.normalized_shape, eps, elementwise_affine, dtype=_numpy_dtype(dtype))
        _register_parameters(self, initial_parameters(layer), ("weight",), device)

    def forward(self, input):
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Normalises (N, C, ...) over `num_groups` groups of channels; weight ones and bias zeros `[C]`."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        layer = pure.GroupNorm(num_groups, num_channels, eps, affine, bias, dtype=_numpy_dtype(dtype))
        _register_parameters(self, initial_parameters(layer), ("weight", "bias"), device)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


# -- embedding ------------------------------------------------------------------------------------


def _lookup_options_text(layer) -> str:
    """The part of an embedding layer's repr that PyTorch shows for options off their defaults."""
    text = "" if layer.max_norm is None else f", max_norm={layer.max_norm}"
    text += "" if layer.norm_type == 2 else f", norm_type={layer.norm_type}"
    return text + (", scale_grad_by_freq=True" if layer.scale_grad_by_freq else "")


class Embedding(Module):
    """A lookup table: row `i` of weight `[num_embeddings, embedding_dim]` (from N(0, 1), the
    `padding_idx` row zeroed) for each index `i`."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight=None, _freeze: bool = False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_index(padding_idx, num_embeddings)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            layer = pure.Embedding(num_embeddings, embedding_dim, self.padding_idx, dtype=_numpy_dtype(dtype))
            self.weight = _parameter(initial_parameters(layer)["weight"], device)
            self.weight.requires_grad_(not _freeze)
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}{_lookup_options_text(self)}" + (
            ", sparse=True" if self.sparse else "")

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding whose weight is `embeddings` (shared, not copied), frozen by default."""
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, _weight=embeddings,
                   _freeze=freeze)


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of rows of a lookup table (`nn.functional.embedding_bag`);
    weight `[num_embeddings, embedding_dim]` from N(0, 1), the `padding_idx` row zeroed."""

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False, _weight=None,
                 include_last_offset: bool = False, padding_idx: int | None = None, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.padding_idx = padding_index(padding_idx, num_embeddings)
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset
        if _weight is None:
            layer = pure.Embedding(num_embeddings, embedding_dim, self.padding_idx, dtype=_numpy_dtype(dtype))
            self.weight = _parameter(initial_parameters(layer)["weight"], device)
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight)

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                               self.mode, self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{_lookup_options_text(self)}, mode={self.mode!r}{padding}"
