"""The convolution, pooling, normalisation, embedding and activation layers of
`nablax.stateful.nn` against `torch.nn` itself: `functional` values, gradients, grad_fn
names and errors; modules' reprs, state dicts, forward and backward passes with weights
copied from PyTorch; BatchNorm's running statistics; and a small CNN moved between the
frameworks, run as a pure function, and trained with SGD in both.

Few input shapes on purpose: every new shape compiles a program.
"""

import re
import warnings

import jax
import numpy as np
import pytest
from conftest import to_numpy
from torch_diff import assert_same, check, check_raises, gradients, outcome

import nablax as nx
import nablax.stateful as nxt
from nablax.stateful.nn import _initial

RNG = np.random.default_rng(0)
IMAGES = RNG.standard_normal((2, 4, 6, 6)).astype(np.float32)
SIGNALS = RNG.standard_normal((2, 4, 9)).astype(np.float32)
CONV1D_WEIGHT = RNG.standard_normal((6, 4, 3)).astype(np.float32) / 3
CONV2D_WEIGHT = RNG.standard_normal((6, 4, 3, 3)).astype(np.float32) / 6
GROUPED_WEIGHT = RNG.standard_normal((6, 2, 3, 3)).astype(np.float32) / 4
EVEN_WEIGHT = RNG.standard_normal((6, 4, 2, 2)).astype(np.float32) / 4
BIAS6 = RNG.standard_normal(6).astype(np.float32)
SCALE4, SHIFT4 = (1 + RNG.standard_normal(4).astype(np.float32) / 2), RNG.standard_normal(4).astype(np.float32)
PLANE_SCALE = 1 + RNG.standard_normal((6, 6)).astype(np.float32) / 2
TABLE = RNG.standard_normal((10, 3)).astype(np.float32)
INDICES = np.array([[0, 3, 3], [9, 0, 5]])


def F(T):
    return T.nn.functional


# -- nn.functional -----------------------------------------------------------------------------

# name -> (fn(T, *leaves), arrays the leaves are made of)
FUNCTIONAL_CASES = {
    "conv1d": (lambda T, x, w, b: F(T).conv1d(x, w, b, stride=2, padding=1), SIGNALS, CONV1D_WEIGHT, BIAS6),
    "conv1d-same-dilated-unbatched": (lambda T, x, w: F(T).conv1d(x[0], w, padding="same", dilation=2),
                                      SIGNALS, CONV1D_WEIGHT),
    "conv2d": (lambda T, x, w, b: F(T).conv2d(x, w, b, padding=1), IMAGES, CONV2D_WEIGHT, BIAS6),
    "conv2d-grouped-strided-dilated": (
        lambda T, x, w, b: F(T).conv2d(x, w, b, stride=2, padding=(1, 2), dilation=2, groups=2),
        IMAGES, GROUPED_WEIGHT, BIAS6),
    "conv2d-same-even-kernel": (lambda T, x, w: F(T).conv2d(x, w, padding="same"), IMAGES, EVEN_WEIGHT),
    "conv2d-unbatched": (lambda T, x, w, b: F(T).conv2d(x[1], w, b), IMAGES, CONV2D_WEIGHT, BIAS6),
    "max_pool2d": (lambda T, x: F(T).max_pool2d(x, 2), IMAGES),
    "max_pool2d-padded": (lambda T, x: F(T).max_pool2d(x, 3, stride=2, padding=1), IMAGES),
    "max_pool2d-unbatched": (lambda T, x: F(T).max_pool2d(x[0], (2, 3), stride=(2, 1)), IMAGES),
    "avg_pool2d": (lambda T, x: F(T).avg_pool2d(x, 2), IMAGES),
    "avg_pool2d-padded": (lambda T, x: F(T).avg_pool2d(x, 3, 2, 1, count_include_pad=False), IMAGES),
    "avg_pool2d-divisor": (lambda T, x: F(T).avg_pool2d(x, 2, divisor_override=3), IMAGES),
    "adaptive_avg_pool2d": (lambda T, x: F(T).adaptive_avg_pool2d(x, (4, 5)), IMAGES),
    "adaptive_avg_pool2d-global": (lambda T, x: F(T).adaptive_avg_pool2d(x, 1), IMAGES),
    "adaptive_avg_pool2d-none-unbatched": (lambda T, x: F(T).adaptive_avg_pool2d(x[0], (None, 4)), IMAGES),
    "batch_norm-training": (lambda T, x, w, b: F(T).batch_norm(x, T.zeros(4), T.ones(4), w, b, training=True),
                            IMAGES, SCALE4, SHIFT4),
    "batch_norm-eval": (lambda T, x, w, b: F(T).batch_norm(x, T.tensor(SHIFT4), T.tensor(SCALE4 ** 2), w, b),
                        IMAGES, SCALE4, SHIFT4),
    "batch_norm-without-statistics": (lambda T, x: F(T).batch_norm(x, None, None, training=True, eps=1e-3), SIGNALS),
    "layer_norm": (lambda T, x, w, b: F(T).layer_norm(x, (6, 6), w, b), IMAGES, PLANE_SCALE, PLANE_SCALE - 1),
    "layer_norm-plain": (lambda T, x: F(T).layer_norm(x, [9], eps=1e-3), SIGNALS),
    "rms_norm": (lambda T, x, w: F(T).rms_norm(x, (6, 6), w), IMAGES, PLANE_SCALE),
    "rms_norm-plain": (lambda T, x: F(T).rms_norm(x, [9], eps=1e-3), SIGNALS),
    "group_norm": (lambda T, x, w, b: F(T).group_norm(x, 2, w, b), IMAGES, SCALE4, SHIFT4),
    "group_norm-plain": (lambda T, x: F(T).group_norm(x, 4), SIGNALS),
    "embedding": (lambda T, w: F(T).embedding(T.tensor(INDICES), w), TABLE),
    "embedding-padding": (lambda T, w: F(T).embedding(T.tensor(INDICES), w, padding_idx=-10), TABLE),
    "leaky_relu": (lambda T, x: F(T).leaky_relu(x, 0.2), IMAGES),
    "elu": (lambda T, x: F(T).elu(x, alpha=1.5), IMAGES),
    "silu": (lambda T, x: F(T).silu(x), IMAGES),
    "softplus": (lambda T, x: F(T).softplus(x, beta=2, threshold=1.0), IMAGES),
    "leaky_relu-inplace": (lambda T, x: F(T).leaky_relu(x * 1, inplace=True), IMAGES),
    "elu-inplace": (lambda T, x: F(T).elu(x * 1, inplace=True), IMAGES),
    "silu-inplace": (lambda T, x: F(T).silu(x * 1, inplace=True), IMAGES),
}


@pytest.mark.parametrize("name", list(FUNCTIONAL_CASES))
def test_functional_values_gradients_and_grad_fn_match_torch(torch, name):
    fn, *arrays = FUNCTIONAL_CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PyTorch's note on padding='same' with even kernels
        check(torch, lambda T: gradients(T, fn, *arrays))


def test_batch_norm_updates_the_running_statistics_in_place_like_torch(torch):
    def case(T):
        mean, var = T.zeros(4), T.ones(4)
        for step in range(2):
            x = T.tensor(IMAGES * (step + 1), requires_grad=True)
            out = F(T).batch_norm(x, mean, var, training=True, momentum=0.3)
            out.sum().backward()
        return out, x.grad, mean, var

    check(torch, case)


INTEGER_IMAGES = np.round(IMAGES * 10).astype(np.int64)


@pytest.mark.parametrize("case", [
    lambda T: F(T).max_pool2d(T.tensor(INTEGER_IMAGES), 2),
    lambda T: F(T).avg_pool2d(T.tensor(INTEGER_IMAGES), 3, 2, 1),  # PyTorch truncates the integer mean
    lambda T: F(T).avg_pool2d(T.tensor(INTEGER_IMAGES), 3, 2, 1, count_include_pad=False, divisor_override=2),
    lambda T: F(T).avg_pool2d(T.tensor(IMAGES), 3, 2, 1, count_include_pad=False, divisor_override=2),
    lambda T: F(T).conv2d(T.tensor(INTEGER_IMAGES), T.ones(2, 4, 3, 3, dtype=T.long), T.ones(2, dtype=T.long)),
], ids=["max_pool2d", "avg_pool2d", "avg_pool2d-divisor", "avg_pool2d-float-divisor", "conv2d"])
def test_integer_pooling_and_convolution_match_torch(torch, case):
    check(torch, case)


ERROR_CASES = {
    "conv channels": lambda T: F(T).conv2d(T.zeros(2, 4, 8, 8), T.zeros(16, 3, 3, 3)),
    "conv1d channels": lambda T: F(T).conv1d(T.zeros(2, 4, 8), T.zeros(5, 3, 3)),
    "conv unbatched channels": lambda T: F(T).conv2d(T.zeros(4, 8, 8), T.zeros(16, 3, 3, 3)),
    "conv kernel too large": lambda T: F(T).conv2d(T.zeros(2, 3, 2, 2), T.zeros(16, 3, 3, 3)),
    "conv dilated kernel too large": lambda T: F(T).conv2d(T.zeros(2, 3, 4, 4), T.zeros(2, 3, 3, 3), dilation=2),
    "conv1d kernel too large": lambda T: F(T).conv1d(T.zeros(2, 3, 2), T.zeros(5, 3, 3)),
    "conv input rank": lambda T: F(T).conv2d(T.zeros(8, 8), T.zeros(16, 3, 3, 3)),
    "conv1d input rank": lambda T: F(T).conv1d(T.zeros(8), T.zeros(2, 3, 3)),
    "conv weight rank": lambda T: F(T).conv2d(T.zeros(2, 3, 8, 8), T.zeros(3, 3, 3)),
    "conv weight too small": lambda T: F(T).conv2d(T.zeros(2, 3, 8, 8), T.zeros(2, 3)),
    "conv1d with 2-d weight": lambda T: F(T).conv1d(T.zeros(2, 3, 8), T.zeros(2, 3, 3, 3)),
    "conv grouped channels": lambda T: F(T).conv2d(T.zeros(2, 4, 8, 8), T.zeros(6, 2, 3, 3), groups=3),
    "conv groups divide out": lambda T: F(T).conv2d(T.zeros(2, 6, 8, 8), T.zeros(4, 2, 3, 3), groups=3),
    "conv groups exceed out": lambda T: F(T).conv2d(T.zeros(1, 6, 4, 4), T.zeros(2, 1, 3, 3), groups=3),
    "conv bias size": lambda T: F(T).conv2d(T.zeros(2, 3, 8, 8), T.zeros(16, 3, 3, 3), T.zeros(5)),
    "conv same strided": lambda T: F(T).conv2d(T.zeros(2, 3, 8, 8), T.zeros(2, 3, 3, 3), padding="same", stride=2),
    "conv padding string": lambda T: F(T).conv2d(T.zeros(2, 3, 8, 8), T.zeros(2, 3, 3, 3), padding="full"),
    "conv negative padding": lambda T: F(T).conv2d(T.zeros(2, 3, 8, 8), T.zeros(2, 3, 3, 3), padding=-1),
    "conv zero stride": lambda T: F(T).conv2d(T.zeros(2, 3, 8, 8), T.zeros(2, 3, 3, 3), stride=0),
    "conv zero groups": lambda T: F(T).conv2d(T.zeros(2, 3, 8, 8), T.zeros(2, 3, 3, 3), groups=0),
    "conv stride length": lambda T: F(T).conv2d(T.zeros(2, 3, 8, 8), T.zeros(2, 3, 3, 3), stride=(1, 1, 1)),
    "conv weight dtype": lambda T: F(T).conv2d(T.zeros(2, 3, 8, 8), T.zeros(2, 3, 3, 3, dtype=T.float64)),
    "conv bias dtype": lambda T: F(T).conv2d(T.zeros(2, 3, 8, 8), T.zeros(2, 3, 3, 3), T.zeros(2, dtype=T.float64)),
    "max_pool2d too small": lambda T: F(T).max_pool2d(T.zeros(2, 3, 2, 2), 3),
    "max_pool2d padding": lambda T: F(T).max_pool2d(T.zeros(2, 3, 8, 8), (2, 4), padding=(0, 3)),
    "max_pool2d negative padding": lambda T: F(T).max_pool2d(T.zeros(2, 3, 8, 8), 2, padding=-1),
    "max_pool2d rank": lambda T: F(T).max_pool2d(T.zeros(8, 8), 2),
    "max_pool2d zero stride": lambda T: F(T).max_pool2d(T.zeros(2, 3, 8, 8), 2, stride=0),
    "max_pool2d zero kernel": lambda T: F(T).max_pool2d(T.zeros(2, 3, 8, 8), 0, 1),
    "max_pool2d negative stride": lambda T: F(T).max_pool2d(T.zeros(2, 3, 8, 8), 2, -1),
    "max_pool2d kernel length": lambda T: F(T).max_pool2d(T.zeros(2, 3, 8, 8), (2, 2, 2)),
    "max_pool2d stride length": lambda T: F(T).max_pool2d(T.zeros(2, 3, 8, 8), 2, (1, 1, 1)),
    "avg_pool2d too small": lambda T: F(T).avg_pool2d(T.zeros(2, 3, 2, 2), 3),
    "avg_pool2d rank 2": lambda T: F(T).avg_pool2d(T.zeros(8, 8), 2),
    "avg_pool2d rank 5": lambda T: F(T).avg_pool2d(T.zeros(1, 2, 3, 8, 8), 2),
    "avg_pool2d padding": lambda T: F(T).avg_pool2d(T.zeros(2, 3, 8, 8), 2, padding=2),
    "avg_pool2d divisor": lambda T: F(T).avg_pool2d(T.zeros(2, 3, 8, 8), 2, divisor_override=0),
    "adaptive rank": lambda T: F(T).adaptive_avg_pool2d(T.zeros(8, 8), 2),
    "adaptive negative": lambda T: F(T).adaptive_avg_pool2d(T.zeros(2, 3, 8, 8), -1),
    "adaptive length": lambda T: F(T).adaptive_avg_pool2d(T.zeros(2, 3, 8, 8), (2,)),
    "adaptive empty input": lambda T: F(T).adaptive_avg_pool2d(T.zeros(2, 3, 0, 8), 2),
    "adaptive integers": lambda T: F(T).adaptive_avg_pool2d(T.ones(1, 1, 4, 4, dtype=T.long), 2),
    "batch_norm one value": lambda T: F(T).batch_norm(T.zeros(1, 3), T.zeros(3), T.ones(3), training=True),
    "batch_norm running_mean size": lambda T: F(T).batch_norm(T.zeros(4, 3), T.zeros(4), T.ones(3), training=True),
    "batch_norm running_var size": lambda T: F(T).batch_norm(T.zeros(4, 3), T.zeros(3), T.ones(4)),
    "batch_norm weight size": lambda T: F(T).batch_norm(T.zeros(4, 3), T.zeros(3), T.ones(3), T.ones(4)),
    "batch_norm eval without statistics": lambda T: F(T).batch_norm(T.zeros(4, 3), None, None),
    "batch_norm one statistic": lambda T: F(T).batch_norm(T.zeros(4, 3), T.zeros(3), None, training=True),
    "batch_norm eps": lambda T: F(T).batch_norm(T.zeros(4, 3), T.zeros(3), T.ones(3), training=True, eps=0.0),
    "batch_norm momentum None": lambda T: F(T).batch_norm(T.zeros(4, 3), T.zeros(3), T.ones(3), training=True,
                                                              momentum=None),
    "batch_norm mixed dtypes": lambda T: F(T).batch_norm(T.zeros(4, 3), T.zeros(3, dtype=T.float64), T.ones(3)),
    "batch_norm integers": lambda T: F(T).batch_norm(T.ones(4, 3, dtype=T.long), None, None, training=True),
    "layer_norm shape": lambda T: F(T).layer_norm(T.zeros(2, 3, 4), (3,)),
    "layer_norm weight": lambda T: F(T).layer_norm(T.zeros(2, 3, 4), (4,), T.ones(3)),
    "layer_norm int shape": lambda T: F(T).layer_norm(T.zeros(2, 3, 4), 4),
    "layer_norm empty shape": lambda T: F(T).layer_norm(T.zeros(2, 3), ()),
    "layer_norm input dtype": lambda T: F(T).layer_norm(T.zeros(2, 3, dtype=T.float64), (3,), T.ones(3)),
    "layer_norm float shape": lambda T: F(T).layer_norm(T.zeros(2, 3), [3.0]),
    "rms_norm shape": lambda T: F(T).rms_norm(T.zeros(2, 3, 4), (2, 4)),
    "rms_norm weight": lambda T: F(T).rms_norm(T.zeros(2, 3, 4), (4,), T.ones(2, 4)),
    "rms_norm int shape": lambda T: F(T).rms_norm(T.zeros(2, 3, 4), 4),
    "rms_norm integers": lambda T: F(T).rms_norm(T.ones(2, 3, dtype=T.long), (3,)),
    "group_norm groups": lambda T: F(T).group_norm(T.zeros(2, 6, 4), 4),
    "group_norm weight": lambda T: F(T).group_norm(T.zeros(2, 6, 4), 3, T.ones(5)),
    "group_norm rank": lambda T: F(T).group_norm(T.zeros(6), 3),
    "group_norm one value": lambda T: F(T).group_norm(T.zeros(1, 1), 1),
    "embedding out of range": lambda T: F(T).embedding(T.tensor([[1, 10]]), T.zeros(10, 4)),
    "embedding negative": lambda T: F(T).embedding(T.tensor([-1]), T.zeros(10, 4)),
    "embedding float indices": lambda T: F(T).embedding(T.tensor([1.0]), T.zeros(10, 4)),
    "embedding padding_idx": lambda T: F(T).embedding(T.tensor([1]), T.zeros(10, 4), padding_idx=10),
    "embedding weight rank": lambda T: F(T).embedding(T.tensor([1]), T.zeros(10)),
    "leaky_relu integers": lambda T: F(T).leaky_relu(T.tensor([1, 2])),
    "elu bool": lambda T: F(T).elu(T.tensor([True])),
    "silu integers": lambda T: F(T).silu(T.tensor([1, 2])),
    "softplus integers": lambda T: F(T).softplus(T.tensor([1, 2])),
    "leaky_relu in place on a leaf": lambda T: F(T).leaky_relu(T.zeros(3, requires_grad=True), inplace=True),
}


@pytest.mark.parametrize("name", list(ERROR_CASES))
def test_functional_errors_have_torchs_types_and_text(torch, name):
    check_raises(torch, ERROR_CASES[name])


# -- modules ------------------------------------------------------------------------------------

# name -> (make(T), the input array); float inputs are differentiated too
MODULE_CASES = {
    "Conv1d": (lambda T: T.nn.Conv1d(4, 6, 3, stride=2, padding=1), SIGNALS),
    "Conv2d": (lambda T: T.nn.Conv2d(4, 6, 3, padding=1), IMAGES),
    "Conv2d-grouped": (lambda T: T.nn.Conv2d(4, 6, 3, stride=2, padding=(1, 2), dilation=2, groups=2), IMAGES),
    "Conv2d-same-without-bias": (lambda T: T.nn.Conv2d(4, 6, 2, padding="same", bias=False), IMAGES),
    "MaxPool2d": (lambda T: T.nn.MaxPool2d(3, stride=2, padding=1), IMAGES),
    "AvgPool2d": (lambda T: T.nn.AvgPool2d(3, 2, 1, count_include_pad=False), IMAGES),
    "AdaptiveAvgPool2d": (lambda T: T.nn.AdaptiveAvgPool2d((4, 5)), IMAGES),
    "BatchNorm1d": (lambda T: T.nn.BatchNorm1d(4), SIGNALS),
    "BatchNorm2d": (lambda T: T.nn.BatchNorm2d(4, eps=1e-3, momentum=None), IMAGES),
    "BatchNorm2d-without-statistics": (lambda T: T.nn.BatchNorm2d(4, affine=False, track_running_stats=False), IMAGES),
    "LayerNorm": (lambda T: T.nn.LayerNorm((6, 6)), IMAGES),
    "LayerNorm-without-bias": (lambda T: T.nn.LayerNorm(9, bias=False), SIGNALS),
    "GroupNorm": (lambda T: T.nn.GroupNorm(2, 4), IMAGES),
    "RMSNorm": (lambda T: T.nn.RMSNorm((6, 6)), IMAGES),
    "RMSNorm-without-weight": (lambda T: T.nn.RMSNorm(9, eps=1e-3, elementwise_affine=False), SIGNALS),
    "Embedding": (lambda T: T.nn.Embedding(10, 3, padding_idx=-10), INDICES),
    "Identity": (lambda T: T.nn.Identity(54, unused=True), IMAGES),
    "LeakyReLU": (lambda T: T.nn.LeakyReLU(0.2), IMAGES),
    "ELU": (lambda T: T.nn.ELU(alpha=1.5), IMAGES),
    "SiLU": (lambda T: T.nn.SiLU(), IMAGES),
    "Softplus": (lambda T: T.nn.Softplus(beta=2, threshold=1.0), IMAGES),
}


def layout(state_dict) -> list:
    """Names, shapes and dtypes of a state dict, in order."""
    return [(name, tuple(value.shape), str(value.dtype)) for name, value in state_dict.items()]


def forward_and_backward(T, module, array):
    """The module's output and the gradients of a weighted sum of it: the input's (for a
    float input) and the parameters'."""
    x = T.tensor(array, requires_grad=array.dtype.kind == "f")
    out = module(x)
    cotangent = np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(np.float32)
    (out * T.tensor(cotangent)).sum().backward()
    return out, ([x.grad] if x.requires_grad else []) + [p.grad for p in module.parameters()]


@pytest.mark.parametrize("name", list(MODULE_CASES))
def test_module_with_torchs_weights_computes_torchs_values_and_gradients(torch, name):
    make, array = MODULE_CASES[name]
    theirs, ours = make(torch), make(nxt)
    assert repr(ours) == repr(theirs)
    assert layout(ours.state_dict()) == layout(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    ours.load_state_dict(theirs.state_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert_same(forward_and_backward(nxt, ours, array), forward_and_backward(torch, theirs, array))
    assert_same(list(ours.state_dict().values()), list(theirs.state_dict().values()))  # buffers included


def all_kinds_of_layers(T):
    """Every new layer in the variants of its constructor whose repr or state dict differ."""
    nn = T.nn
    return nn.Sequential(
        nn.Conv1d(3, 4, 3), nn.Conv1d(2, 4, (5,), stride=2, padding="valid", groups=2, bias=False),
        nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False), nn.Conv2d(3, 6, (3, 5), padding="same", dilation=2, groups=3),
        nn.MaxPool2d(2), nn.MaxPool2d((2, 3), stride=1, padding=1), nn.AvgPool2d(2), nn.AvgPool2d(3, 2, 1, False, False),
        nn.AdaptiveAvgPool2d(1), nn.AdaptiveAvgPool2d((None, 3)), nn.BatchNorm1d(3),
        nn.BatchNorm2d(3, eps=1e-3, momentum=None, affine=False, track_running_stats=False), nn.BatchNorm2d(4, bias=False),
        nn.BatchNorm1d(5, affine=False), nn.LayerNorm(8), nn.LayerNorm((8, 8), elementwise_affine=False),
        nn.LayerNorm(4, bias=False), nn.GroupNorm(3, 6), nn.GroupNorm(2, 4, affine=False), nn.GroupNorm(1, 2, bias=False),
        nn.Embedding(10, 4), nn.Embedding(10, 4, padding_idx=-1), nn.Embedding(3, 2, norm_type=1.0), nn.Identity(3, x=4),
        nn.LeakyReLU(), nn.LeakyReLU(0.2, True), nn.ELU(), nn.ELU(2.0, True), nn.SiLU(), nn.SiLU(True), nn.Softplus(),
        nn.Softplus(2, 10), nn.Conv2d(2, 2, 1, dtype=T.float64), nn.RMSNorm(8),
        nn.RMSNorm([2, 3], eps=1e-4, elementwise_affine=False, dtype=T.float64),
    )


def test_reprs_state_dicts_and_parameters_equal_torchs(torch):
    theirs, ours = all_kinds_of_layers(torch), all_kinds_of_layers(nxt)
    assert repr(ours) == repr(theirs)
    assert layout(ours.state_dict()) == layout(theirs.state_dict())
    assert [(n, p.requires_grad) for n, p in ours.named_parameters()] == [
        (n, p.requires_grad) for n, p in theirs.named_parameters()]
    # Arguments are kept as PyTorch keeps them.
    assert ours[0].kernel_size == (3,) and ours[3].padding == "same" and ours[5].stride == 1
    assert ours[14].normalized_shape == (8,) and ours[21].padding_idx == 9


def test_default_initialisation_follows_torchs_distributions():
    nxt.manual_seed(0)
    conv, embedding = nxt.nn.Conv2d(8, 64, 3, groups=2), nxt.nn.Embedding(200, 50, padding_idx=3)
    bound = 1 / np.sqrt(4 * 3 * 3)
    weight, bias = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.9 * bound
    assert np.abs(bias).max() <= bound and bias.std() > 0.4 * bound
    table = embedding.weight.detach().numpy()
    assert (table[3] == 0).all() and abs(table.std() - 1) < 0.05 and abs(table.mean()) < 0.05
    batch_norm = nxt.nn.BatchNorm2d(3)
    assert batch_norm.weight.tolist() == [1.0] * 3 and batch_norm.bias.tolist() == [0.0] * 3
    assert batch_norm.running_var.tolist() == [1.0] * 3 and batch_norm.num_batches_tracked.dtype == nxt.int64


MODULE_ERROR_CASES = {
    "Conv2d groups": lambda T: T.nn.Conv2d(3, 6, 3, groups=2),
    "Conv2d out groups": lambda T: T.nn.Conv2d(4, 6, 3, groups=4),
    "Conv2d zero groups": lambda T: T.nn.Conv2d(4, 6, 3, groups=0),
    "Conv2d same strided": lambda T: T.nn.Conv2d(4, 6, 3, padding="same", stride=2),
    "Conv2d padding string": lambda T: T.nn.Conv2d(4, 6, 3, padding="full"),
    "Conv2d padding mode": lambda T: T.nn.Conv2d(4, 6, 3, padding_mode="mirror"),
    "Conv2d channels": lambda T: T.nn.Conv2d(3, 16, 3)(T.zeros(2, 4, 8, 8)),
    "BatchNorm1d rank": lambda T: T.nn.BatchNorm1d(3)(T.zeros(2, 3, 4, 5)),
    "BatchNorm2d rank": lambda T: T.nn.BatchNorm2d(3)(T.zeros(2, 3)),
    "BatchNorm2d channels": lambda T: T.nn.BatchNorm2d(3)(T.zeros(2, 4, 5, 5)),
    "BatchNorm1d one value": lambda T: T.nn.BatchNorm1d(3)(T.zeros(1, 3)),
    "BatchNorm2d one value untracked": lambda T: T.nn.BatchNorm2d(3, track_running_stats=False).eval()(
        T.zeros(1, 3, 1, 1)),
    "LayerNorm shape": lambda T: T.nn.LayerNorm(3)(T.zeros(2, 3, 4)),
    "GroupNorm groups": lambda T: T.nn.GroupNorm(4, 6),
    "GroupNorm channels": lambda T: T.nn.GroupNorm(3, 6)(T.zeros(2, 9, 4)),
    "Embedding padding_idx": lambda T: T.nn.Embedding(10, 4, padding_idx=-11),
    "Embedding index": lambda T: T.nn.Embedding(10, 4)(T.tensor([[10]])),
    "Embedding pretrained rank": lambda T: T.nn.Embedding.from_pretrained(T.zeros(3)),
    "Embedding weight shape": lambda T: T.nn.Embedding(3, 2, _weight=T.zeros(2, 3)),
}


def sets_sorted(message: str) -> str:
    """A message with the items of each `{...}` sorted: PyTorch prints Python sets, whose
    order depends on the hash seed of the process that compiled its bytecode."""
    return re.sub(r"\{([^{}]*)\}", lambda match: "{" + ", ".join(sorted(match.group(1).split(", "))) + "}", message)


@pytest.mark.parametrize("name", list(MODULE_ERROR_CASES))
def test_module_errors_have_torchs_types_and_text(torch, name):
    (expected_type, expected), (got_type, got) = (outcome(MODULE_ERROR_CASES[name], T) for T in (torch, nxt))
    assert expected_type != "ok" and got_type == expected_type
    assert sets_sorted(got) == sets_sorted(expected)


def test_unsupported_options_raise_instead_of_computing_something_else():
    with pytest.raises(NotImplementedError, match="not supported by nablax"):
        nxt.nn.Conv2d(2, 2, 3, padding_mode="reflect")


def test_activation_modules_in_place_write_into_their_input(torch):
    def case(T, make):
        x = T.tensor(IMAGES, requires_grad=True)
        y = x * 1
        out = make(T)(y)
        (out * T.tensor(IMAGES)).sum().backward()
        return out is y, out, x.grad

    for make in (lambda T: T.nn.LeakyReLU(0.2, inplace=True), lambda T: T.nn.ELU(inplace=True),
                 lambda T: T.nn.SiLU(inplace=True)):
        assert check(torch, case, make)[1][0] is True


def test_embedding_from_pretrained_shares_and_freezes_like_torch(torch):
    def case(T, freeze):
        table = T.tensor(TABLE)
        layer = T.nn.Embedding.from_pretrained(table, freeze=freeze, padding_idx=2)
        return repr(layer), layer.weight.requires_grad, layer(T.tensor(INDICES)), layer.weight is table

    for freeze in (True, False):
        check(torch, case, freeze)


class EmbeddingClassifier(nxt.nn.Module):
    """A module whose forward pass takes integer inputs and computes its own loss."""

    def __init__(self):
        super().__init__()
        self.embedding, self.head = nxt.nn.Embedding(10, 3), nxt.nn.Linear(3, 2)

    def forward(self, indices, labels):
        logits = self.head(self.embedding(indices).mean(1))
        return nxt.nn.functional.cross_entropy(logits, labels)


def test_index_checks_leave_traced_values_alone_under_jit():
    apply_fn, params = EmbeddingClassifier().to_functional()
    labels = np.array([0, 1])
    eager = apply_fn(params, INDICES, labels)
    np.testing.assert_allclose(jax.jit(apply_fn)(params, INDICES, labels), eager, rtol=1e-6)


# -- BatchNorm's running statistics ------------------------------------------------------------------

BATCH_NORMS = {
    "BatchNorm1d": (lambda T: T.nn.BatchNorm1d(4), SIGNALS),
    "BatchNorm1d-2d-cumulative": (lambda T: T.nn.BatchNorm1d(4, momentum=None), IMAGES[:, :, 0, 0]),
    "BatchNorm2d": (lambda T: T.nn.BatchNorm2d(4, momentum=0.3, bias=False), IMAGES),
    "BatchNorm2d-cumulative-no-affine": (lambda T: T.nn.BatchNorm2d(4, momentum=None, affine=False), IMAGES),
    "BatchNorm2d-untracked": (lambda T: T.nn.BatchNorm2d(4, track_running_stats=False), IMAGES),
}


@pytest.mark.parametrize("name", list(BATCH_NORMS))
def test_batch_norm_running_statistics_follow_torchs_over_train_and_eval_steps(torch, name):
    make, array = BATCH_NORMS[name]
    theirs, ours = make(torch), make(nxt)
    ours.load_state_dict(theirs.state_dict())
    for step, training in enumerate([True, True, False, True, False, True]):
        for module in (theirs, ours):
            module.train(training)
        batch = array * (1 + step / 2) + step  # statistics that move from step to step
        assert_same(forward_and_backward(nxt, ours, batch), forward_and_backward(torch, theirs, batch))
        assert_same(list(ours.state_dict().values()), list(theirs.state_dict().values()))


def test_batch_norm_without_grad_still_updates_its_statistics(torch):
    def case(T):
        layer = T.nn.BatchNorm1d(4)
        with T.no_grad():
            out = layer(T.tensor(SIGNALS))
        return out, layer.running_mean, layer.running_var, layer.num_batches_tracked

    check(torch, case)


# -- a small CNN in both frameworks --------------------------------------------------------------------

CNN_IMAGES = RNG.standard_normal((8, 3, 8, 8)).astype(np.float32)
CNN_LABELS = RNG.integers(0, 3, 8)


def make_cnn(T):
    nn = T.nn
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Dropout(0.5), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))


def set_mode(model, batch_norm_training: bool):
    """Batch norm in the given mode; dropout always off, so that both frameworks agree."""
    model.train(batch_norm_training)
    model[4].eval()
    return model


def as_torch_state_dict(torch, state_dict) -> dict:
    return {name: torch.from_numpy(np.array(value.numpy())) for name, value in state_dict.items()}


def cnn_pair(torch):
    theirs, ours = make_cnn(torch), make_cnn(nxt)
    ours.load_state_dict(theirs.state_dict())
    return theirs, ours


def test_cnn_moves_between_torch_and_nablax_with_its_state_dict(torch):
    theirs, ours = cnn_pair(torch)
    for training in (True, False):
        set_mode(theirs, training), set_mode(ours, training)
        assert_same(ours(nxt.tensor(CNN_IMAGES)), theirs(torch.tensor(CNN_IMAGES)))
    # Trained a little statefully, the model goes back into a fresh PyTorch model.
    set_mode(ours, True)
    optimizer = nxt.optim.SGD(ours.parameters(), lr=0.5)
    for _ in range(2):
        optimizer.zero_grad()
        nxt.nn.functional.cross_entropy(ours(nxt.tensor(CNN_IMAGES)), nxt.tensor(CNN_LABELS)).backward()
        optimizer.step()
    fresh = make_cnn(torch)
    assert repr(fresh.load_state_dict(as_torch_state_dict(torch, ours.state_dict()))) == "<All keys matched successfully>"
    assert int(fresh[1].num_batches_tracked) == 3  # one training forward pass above, two steps here
    for training in (True, False):
        set_mode(fresh, training), set_mode(ours, training)
        assert_same(ours(nxt.tensor(CNN_IMAGES)).detach(), fresh(torch.tensor(CNN_IMAGES)).detach())


def test_to_functional_of_a_cnn_names_params_like_the_state_dict(torch):
    theirs, ours = cnn_pair(torch)
    set_mode(ours, True)
    ours(nxt.tensor(CNN_IMAGES))  # running statistics away from their initial values
    theirs.train()(torch.tensor(CNN_IMAGES))
    apply_fn, params = ours.to_functional()
    flat = nx.state_dict(params)
    assert list(flat) == list(ours.state_dict())
    assert layout(flat) == [(n, s, d.replace("torch.", "")) for n, s, d in layout(ours.state_dict())]
    expected = to_numpy(set_mode(theirs, False)(torch.tensor(CNN_IMAGES)))
    for fn in (apply_fn, jax.jit(apply_fn)):
        np.testing.assert_allclose(np.asarray(fn(params, CNN_IMAGES)), expected, atol=1e-5, rtol=1e-5)
    assert ours.training  # apply_fn restores the module's mode


@pytest.mark.parametrize("batch_norm_training", [False, True], ids=["eval-bn", "train-bn"])
def test_sgd_steps_on_a_cnn_equal_torchs(torch, batch_norm_training):
    theirs, ours = cnn_pair(torch)
    losses = []
    for T, model in ((torch, theirs), (nxt, ours)):
        set_mode(model, batch_norm_training)
        optimizer = T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        images, labels = T.tensor(CNN_IMAGES), T.tensor(CNN_LABELS)
        for _ in range(3):
            optimizer.zero_grad()
            loss = T.nn.functional.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    np.testing.assert_allclose(losses[3:], losses[:3], rtol=1e-5, atol=1e-6)
    for (name, value), expected in zip(ours.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_allclose(to_numpy(value.numpy()), to_numpy(expected), atol=1e-5, rtol=1e-5, err_msg=name)


INITIALISED = {
    "Linear": lambda nn: nn.Linear(5, 3),
    "Linear float64": lambda nn: nn.Linear(5, 3, dtype=nxt.float64),
    "Conv2d": lambda nn: nn.Conv2d(2, 4, 3),
    "ConvTranspose1d": lambda nn: nn.ConvTranspose1d(2, 3, 2),
    "Embedding": lambda nn: nn.Embedding(10, 4),
    "LSTM": lambda nn: nn.LSTM(3, 4, num_layers=2),
    "GRU": lambda nn: nn.GRU(3, 5, bidirectional=True),
    "MultiheadAttention": lambda nn: nn.MultiheadAttention(8, 2),
    "PReLU": lambda nn: nn.PReLU(3),
}


@pytest.mark.parametrize("name", INITIALISED)
def test_initial_parameters_are_the_eager_inits_to_the_bit_in_their_order(name, monkeypatch):
    """Layers draw their initial parameters as one compiled program per layer description:
    the numbers and the order of the functional `init` run eagerly."""
    nxt.manual_seed(5)
    compiled = dict(INITIALISED[name](nxt.nn).named_parameters())
    monkeypatch.setattr(_initial._InitProgram, "__call__", lambda self, *draw: self.layer.init(_initial.key_of(*draw)))
    nxt.manual_seed(5)
    eager = dict(INITIALISED[name](nxt.nn).named_parameters())
    assert list(compiled) == list(eager)
    for key in eager:
        np.testing.assert_array_equal(to_numpy(compiled[key].detach()), to_numpy(eager[key].detach()), err_msg=key)


def test_equal_layers_share_one_initialising_program():
    nxt.nn.Linear(7, 2)
    before = _initial._program_for.cache_info()
    layers = [nxt.nn.Linear(7, 2) for _ in range(3)]
    after = _initial._program_for.cache_info()
    assert after.currsize == before.currsize and after.hits == before.hits + 3
    assert _initial._program_for(nx.nn.Linear(7, 2, dtype=np.dtype("float32"))).program._cache_size() == 1
    assert not np.array_equal(to_numpy(layers[0].weight.detach()), to_numpy(layers[1].weight.detach()))
