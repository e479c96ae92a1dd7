"""Thin `torch.nn` modules over the resampling, padding, 3-D pooling, shuffling, folding and
per-instance functions of `nn.functional`, with PyTorch's constructors, attributes and
reprs; the ones with parameters draw them from PyTorch's distributions."""

from __future__ import annotations

import math

from ..engine import no_grad
from ..ops import creation
from . import functional as F
from .layers import _ntuple
from .module import Module
from .parameter import Parameter
from .pooling import _AdaptiveMaxPoolNd, _AdaptivePoolNd, _MaxPoolNd, AvgPool2d, MaxUnpool2d


def _uniform_parameter(shape, bound: float, dtype=None) -> Parameter:
    """A parameter drawn from U(-bound, bound) (the global random stream)."""
    with no_grad():
        return Parameter(creation.empty(*shape, dtype=dtype).uniform_(-bound, bound))


class Upsample(Module):
    """`interpolate` as a module: to `size`, or by `scale_factor`, in `mode`."""

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name, self.size, self.mode = type(self).__name__, size, mode
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        scale = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{scale}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class _Pad(Module):
    """Pads the last dimensions by `padding` (an int for every side, or PyTorch's tuple)."""

    _mode, _dims, _zero = "constant", 1, False

    def __init__(self, padding, value: float = 0.0):
        super().__init__()
        self.padding = _ntuple(padding, 2 * self._dims)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, self._mode, self.value if self._mode == "constant" else None)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}" if self._mode == "constant" and not self._zero else (
            f"{self.padding}")


def _pad_class(name: str, mode: str, dims: int, zero: bool = False) -> type:
    def __init__(self, padding, value: float = 0.0):
        _Pad.__init__(self, padding, 0.0 if zero else value)
    namespace = {"_mode": mode, "_dims": dims, "_zero": zero, "__doc__": f"`pad(..., mode={mode!r})` of the last {dims} dimension(s)."}
    if zero:
        namespace["__init__"] = __init__
    return type(name, (_Pad,), namespace)


ConstantPad1d, ConstantPad2d, ConstantPad3d = (_pad_class(f"ConstantPad{n}d", "constant", n) for n in (1, 2, 3))
ZeroPad1d, ZeroPad2d, ZeroPad3d = (_pad_class(f"ZeroPad{n}d", "constant", n, zero=True) for n in (1, 2, 3))
ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = (_pad_class(f"ReflectionPad{n}d", "reflect", n) for n in (1, 2, 3))
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = (
    _pad_class(f"ReplicationPad{n}d", "replicate", n) for n in (1, 2, 3))
CircularPad1d, CircularPad2d, CircularPad3d = (_pad_class(f"CircularPad{n}d", "circular", n) for n in (1, 2, 3))


class PixelShuffle(Module):
    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


class Unfold(Module):
    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Unfold):
    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__(kernel_size, dilation, padding, stride)
        self.output_size = output_size

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}, " + super().extra_repr()


class MaxPool3d(_MaxPoolNd):
    _functional = staticmethod(F.max_pool3d)


class AvgPool3d(AvgPool2d):
    def forward(self, input):
        return F.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)


class AdaptiveAvgPool3d(_AdaptivePoolNd):
    _functional = staticmethod(F.adaptive_avg_pool3d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    _functional = staticmethod(F.adaptive_max_pool3d)


class _MaxUnpoolNd(MaxUnpool2d):
    """`MaxUnpool2d` over `_dims` axes: its sizes kept as `_dims`-tuples."""

    _dims, _functional = 0, None

    def __init__(self, kernel_size, stride=None, padding=0):
        Module.__init__(self)
        self.kernel_size = _ntuple(kernel_size, self._dims)
        self.stride = _ntuple(stride if stride is not None else kernel_size, self._dims)
        self.padding = _ntuple(padding, self._dims)

    def forward(self, input, indices, output_size=None):
        return type(self)._functional(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool1d(_MaxUnpoolNd):
    _dims, _functional = 1, staticmethod(F.max_unpool1d)


class MaxUnpool3d(_MaxUnpoolNd):
    _dims, _functional = 3, staticmethod(F.max_unpool3d)


class LocalResponseNorm(Module):
    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class Bilinear(Module):
    """`y = x1 @ weight[o] @ x2 + bias[o]`; weight `[out, in1, in2]` and bias `[out]` from
    U(-1/sqrt(in1), 1/sqrt(in1)), as PyTorch draws them."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        bound = 1 / math.sqrt(in1_features)
        self.weight = _uniform_parameter((out_features, in1_features, in2_features), bound, dtype)
        self.register_parameter("bias", _uniform_parameter((out_features,), bound, dtype) if bias else None)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class _ConvTransposeNd(Module):
    """A transposed convolution; weight `[in, out / groups, *kernel_size]` and bias `[out]` from
    U(-b, b) with b = 1/sqrt(out / groups * prod(kernel_size)) (PyTorch's fan-in of that layout)."""

    _dims, _functional = 0, None

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError("in_channels must be divisible by groups" if in_channels % groups else
                             "out_channels must be divisible by groups")
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        n = self._dims
        self.in_channels, self.out_channels, self.groups, self.padding_mode = in_channels, out_channels, groups, padding_mode
        self.kernel_size, self.stride, self.padding = _ntuple(kernel_size, n), _ntuple(stride, n), _ntuple(padding, n)
        self.output_padding, self.dilation, self.transposed = _ntuple(output_padding, n), _ntuple(dilation, n), True
        bound = 1 / math.sqrt(out_channels // groups * math.prod(self.kernel_size))
        self.weight = _uniform_parameter((in_channels, out_channels // groups, *self.kernel_size), bound, dtype)
        self.register_parameter("bias", _uniform_parameter((out_channels,), bound, dtype) if bias else None)
        if device is not None:
            self.to(device)

    def _output_padding(self, input, output_size) -> tuple:
        """PyTorch's `_output_padding`: what makes the output `output_size`, within a stride."""
        if output_size is None:
            return self.output_padding
        sizes = list(output_size)[-self._dims:]
        padding = []
        for d, size in enumerate(sizes):
            smallest = ((input.shape[d - self._dims] - 1) * self.stride[d] - 2 * self.padding[d]
                        + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            if not smallest <= size < smallest + self.stride[d]:
                raise ValueError(f"requested an output size of {sizes}, but valid sizes range from {smallest} to "
                                 f"{smallest + self.stride[d] - 1} (for an input of {list(input.shape[2:])})")
            padding.append(size - smallest)
        return tuple(padding)

    def forward(self, input, output_size=None):
        return type(self)._functional(input, self.weight, self.bias, self.stride, self.padding,
                                      self._output_padding(input, output_size), self.groups, self.dilation)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        for name, default in (("padding", 0), ("dilation", 1), ("output_padding", 0)):
            if getattr(self, name) != (default,) * self._dims:
                text += f", {name}={getattr(self, name)}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text if self.bias is not None else text + ", bias=False"


class ConvTranspose1d(_ConvTransposeNd):
    _dims, _functional = 1, staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    _dims, _functional = 2, staticmethod(F.conv_transpose2d)


class ConvTranspose3d(_ConvTransposeNd):
    _dims, _functional = 3, staticmethod(F.conv_transpose3d)


class _InstanceNorm(Module):
    """Normalises each (sample, channel) over its other dimensions; with `affine`, weight ones
    and bias zeros `[C]`; with `track_running_stats`, running statistics used in evaluation."""

    _dims = 0

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.register_parameter("weight", Parameter(creation.ones(num_features, dtype=dtype)) if affine else None)
        with_bias = affine and bias
        self.register_parameter("bias", Parameter(creation.zeros(num_features, dtype=dtype)) if with_bias else None)
        statistics = track_running_stats
        self.register_buffer("running_mean", creation.zeros(num_features, dtype=dtype) if statistics else None)
        self.register_buffer("running_var", creation.ones(num_features, dtype=dtype) if statistics else None)
        self.register_buffer("num_batches_tracked", creation.tensor(0) if statistics else None)
        if device is not None:
            self.to(device)

    def forward(self, input):
        unbatched = input.ndim == self._dims + 1
        x = input.unsqueeze(0) if unbatched else input
        y = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            self.momentum if self.momentum is not None else 0.0, self.eps)
        return y.squeeze(0) if unbatched else y

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    _dims = 1


class InstanceNorm2d(_InstanceNorm):
    _dims = 2


class InstanceNorm3d(_InstanceNorm):
    _dims = 3
