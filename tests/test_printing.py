"""Tensor printing against PyTorch's own `repr`, character for character."""

import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nablax.stateful.printing import OPTIONS, PrintOptions, format_tensor, parameter_repr, set_printoptions

DTYPE_NAMES = {
    "float16": "torch.float16",
    "float32": "torch.float32",
    "float64": "torch.float64",
    "bfloat16": "torch.bfloat16",
    "int8": "torch.int8",
    "int16": "torch.int16",
    "int32": "torch.int32",
    "int64": "torch.int64",
    "uint8": "torch.uint8",
    "bool": "torch.bool",
}
FLOAT_DTYPES = ["float16", "float32", "float64", "bfloat16"]
INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8"]
FLOAT_REGIMES = ["tiny", "small", "normal", "ratio", "near_1e8", "huge", "integers", "wide", "specials", "mixed"]
INT_REGIMES = ["small", "full"]
SPECIALS = np.array([np.inf, -np.inf, np.nan, -0.0, 0.0, 1e-6, 1e9, 3.0])


def to_torch(torch, values, dtype):
    """A torch tensor with these values; bfloat16 is stored as float32 in NumPy."""
    tensor = torch.from_numpy(np.array(values, copy=True))
    return tensor.to(torch.bfloat16) if dtype == "bfloat16" else tensor


def host_values(tensor):
    """What a bfloat16-capable frontend would hand to `format_tensor`: bfloat16 widened to float32."""
    tensor = tensor.detach()
    return (tensor.float() if str(tensor.dtype) == "torch.bfloat16" else tensor).numpy()


def ours(tensor, **kwargs):
    """`format_tensor` for the values and dtype of a torch tensor."""
    return format_tensor(host_values(tensor), dtype_name=str(tensor.dtype), **kwargs)


def float_values(rng, regime, size):
    """`size` doubles from one magnitude regime, chosen to exercise every formatter mode."""
    signs = rng.choice([-1.0, 1.0], size)
    if regime == "tiny":
        return signs * rng.uniform(1e-7, 1e-5, size)
    if regime == "small":  # straddles the 1e-4 switch to scientific notation
        return signs * 10.0 ** rng.uniform(-5, -3.5, size)
    if regime == "normal":
        return rng.normal(0.0, 3.0, size)
    if regime == "ratio":  # straddles the 1000x largest/smallest switch
        return signs * 10.0 ** rng.uniform(0, 3.2, size)
    if regime == "near_1e8":  # straddles the 1e8 switch
        return signs * np.round(rng.uniform(5e7, 2e8, size), rng.integers(-1, 2))
    if regime == "huge":
        return signs * rng.uniform(1e8, 1e10, size)
    if regime == "integers":
        return rng.integers(-500, 500, size).astype(np.float64)
    if regime == "wide":
        return signs * 10.0 ** rng.uniform(-6, 9, size)
    if regime == "specials":
        return rng.choice(SPECIALS[:5], size)
    mixed = rng.normal(0.0, 3.0, size)
    replaced = rng.random(size) < 0.3
    mixed[replaced] = rng.choice(SPECIALS, int(replaced.sum()))
    return mixed


def int_values(rng, dtype, regime, size):
    """`size` integers of `dtype`, small or spanning the whole range."""
    info = np.iinfo(dtype)
    low, high = (max(info.min, -9), 10) if regime == "small" else (info.min, info.max)
    return rng.integers(low, high, size, dtype=dtype, endpoint=regime != "small")


@st.composite
def arrays(draw, dtypes=tuple(DTYPE_NAMES), max_dims=4, max_side=6):
    """(values, dtype): a NumPy array of 0 to `max_dims` dims and its dtype key (bfloat16 as float32)."""
    dtype = draw(st.sampled_from(dtypes))
    shape = tuple(draw(st.lists(st.integers(0, max_side), max_size=max_dims)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    size = int(np.prod(shape))
    if dtype == "bool":
        values = rng.random(size) < 0.5
    elif dtype in INT_DTYPES:
        values = int_values(rng, np.dtype(dtype), draw(st.sampled_from(INT_REGIMES)), size)
    else:
        storage = np.float32 if dtype == "bfloat16" else np.dtype(dtype)
        with np.errstate(over="ignore"):  # huge values become inf in float16, as they would in torch
            values = float_values(rng, draw(st.sampled_from(FLOAT_REGIMES)), size).astype(storage)
    return values.reshape(shape), dtype


@contextlib.contextmanager
def both_printoptions(torch, **kwargs):
    """Sets the same print options in both libraries; restores the defaults on the way out."""
    try:
        torch.set_printoptions(**kwargs)
        set_printoptions(**kwargs)
        yield
    finally:
        torch.set_printoptions(profile="default")
        set_printoptions(profile="default")


@pytest.fixture
def options(torch):
    """Sets print options in both libraries for one test; restores the defaults afterwards."""
    with both_printoptions(torch):

        def apply(**kwargs):
            torch.set_printoptions(**kwargs)
            set_printoptions(**kwargs)

        yield apply


@settings(max_examples=100)
@given(arrays())
def test_matches_torch_for_every_dtype_shape_and_regime(torch, case):
    values, dtype = case
    tensor = to_torch(torch, values, dtype)
    assert ours(tensor) == repr(tensor)


@settings(max_examples=100)
@given(arrays(dtypes=FLOAT_DTYPES, max_dims=2, max_side=30), st.sampled_from(["leaf", "mul", "exp", "to_double"]))
def test_matches_torch_with_autograd_suffixes(torch, case, source):
    values, dtype = case
    leaf = to_torch(torch, values, dtype).requires_grad_()
    sources = {"leaf": lambda: leaf, "mul": lambda: leaf * 1, "exp": leaf.exp, "to_double": leaf.double}
    tensor = sources[source]()
    grad_fn_name = None if tensor.grad_fn is None else type(tensor.grad_fn).__name__
    assert ours(tensor, requires_grad=tensor.requires_grad, grad_fn_name=grad_fn_name) == repr(tensor)


OPTION_SETS = [
    dict(precision=2),
    dict(precision=0),
    dict(sci_mode=False),
    dict(sci_mode=True),
    dict(linewidth=40),
    dict(threshold=5),
    dict(edgeitems=1),
    dict(threshold=5, edgeitems=0),
    dict(profile="full"),
    dict(profile="short"),
    dict(profile="short", precision=6, linewidth=120),
]


@settings(max_examples=100)
@given(arrays(max_dims=3, max_side=12), st.sampled_from(OPTION_SETS))
def test_matches_torch_under_print_options(torch, case, option_set):
    values, dtype = case
    tensor = to_torch(torch, values, dtype)
    with both_printoptions(torch, **option_set):
        assert ours(tensor) == repr(tensor)


SUMMARIZED_SHAPES = [(1001,), (40, 40), (3, 400), (2, 3, 200), (1, 1, 1001), (7, 1, 150)]


@pytest.mark.parametrize("shape", SUMMARIZED_SHAPES, ids=str)
@pytest.mark.parametrize("regime", ["normal", "wide", "integers"])
def test_summarized_float_tensors_match_torch(torch, shape, regime):
    rng = np.random.default_rng(0)
    values = float_values(rng, regime, int(np.prod(shape))).astype(np.float32).reshape(shape)
    # An outlier in the hidden middle must not change the width or mode of the shown elements.
    values.reshape(-1)[len(values.reshape(-1)) // 2] = 1e12
    tensor = to_torch(torch, values, "float32")
    assert ours(tensor) == repr(tensor)


@pytest.mark.parametrize("shape", SUMMARIZED_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", ["int64", "int8", "bool"])
def test_summarized_integer_tensors_match_torch(torch, shape, dtype):
    rng = np.random.default_rng(1)
    values = (rng.random(shape) < 0.5) if dtype == "bool" else rng.integers(-100, 100, shape).astype(dtype)
    tensor = to_torch(torch, values, dtype)
    assert ours(tensor) == repr(tensor)


@pytest.mark.parametrize("option_set", OPTION_SETS, ids=str)
@pytest.mark.parametrize("shape", [(1001,), (40, 40), (2, 3, 200), (50,), (3, 4)], ids=str)
def test_print_options_on_fixed_tensors_match_torch(torch, options, option_set, shape):
    values = float_values(np.random.default_rng(2), "wide", int(np.prod(shape))).reshape(shape)
    tensor = to_torch(torch, values, "float64")
    options(**option_set)
    assert ours(tensor) == repr(tensor)


def test_set_printoptions_follows_torch_semantics(options):
    options(sci_mode=True)
    options(precision=3)  # any call without sci_mode turns automatic notation back on
    assert OPTIONS == PrintOptions(precision=3, sci_mode=None)
    options(profile="full", edgeitems=5)
    assert OPTIONS == PrintOptions(threshold=float("inf"), edgeitems=5)
    options(profile="default")
    assert OPTIONS == PrintOptions()


@pytest.mark.parametrize("length", range(1, 45))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_suffix_wrapping_at_every_line_length_matches_torch(torch, length, dtype):
    # Lengths sweep the last line across the width, so each suffix lands on both sides of the wrap.
    tensor = to_torch(torch, np.linspace(-1, 1, length).astype(dtype), dtype).requires_grad_()
    assert ours(tensor, requires_grad=True) == repr(tensor)
    derived = tensor * 1
    assert ours(derived, grad_fn_name=type(derived.grad_fn).__name__) == repr(derived)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + INT_DTYPES + ["bool"])
@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0, 4)], ids=str)
def test_empty_tensors_match_torch(torch, dtype, shape):
    storage = "float32" if dtype == "bfloat16" else dtype
    tensor = to_torch(torch, np.zeros(shape, storage), dtype)
    assert ours(tensor) == repr(tensor)


@pytest.mark.parametrize(
    "values, dtype, expected",
    [
        (2.5, "float32", "tensor(2.5000)"),
        (-0.0, "float32", "tensor(-0.)"),
        (1e-5, "float32", "tensor(1.0000e-05)"),
        ([5e-5, 1e-4], "float64", "tensor([5.0000e-05, 1.0000e-04], dtype=torch.float64)"),
        ([1e8, 1.5e8], "float32", "tensor([1.0000e+08, 1.5000e+08])"),
        (1e8, "float32", "tensor(100000000.)"),
        ([0.0, -0.0, np.inf, np.nan], "float32", "tensor([0., -0., inf, nan])"),
        ([True, False], "bool", "tensor([ True, False])"),
        ([1.0, 2.0], "float16", "tensor([1., 2.], dtype=torch.float16)"),
        ([1, -20], "int8", "tensor([  1, -20], dtype=torch.int8)"),
        ([1e9, 1.0], "float64", "tensor([1.0000e+09, 1.0000e+00], dtype=torch.float64)"),
    ],
)
def test_documented_examples_match_torch(torch, values, dtype, expected):
    tensor = to_torch(torch, np.array(values, dtype), dtype)
    assert repr(tensor) == expected
    assert ours(tensor) == expected


def test_non_cpu_device_is_a_suffix():
    values = np.array([1.0, 2.0], np.float32)
    text = format_tensor(values, dtype_name="torch.float32", device="cuda:0", requires_grad=True)
    assert text == "tensor([1., 2.], device='cuda:0', requires_grad=True)"


@pytest.mark.parametrize("dtype", ["float32", "float16", "float64"])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (0, 2)], ids=str)
def test_parameter_repr_matches_torch(torch, dtype, shape):
    values = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape) / 3
    parameter = torch.nn.Parameter(to_torch(torch, values, dtype))
    assert parameter_repr(ours(parameter, requires_grad=True)) == repr(parameter)
