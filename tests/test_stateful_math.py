"""The elementwise math family of `nablax.stateful` against PyTorch's: the unary table
(trigonometric, hyperbolic, exponential, error functions, predicates, ...), the binary table
(atan2, hypot, fmod, copysign, xlogy, ...), `clamp_min`/`clamp_max`, `round(decimals=)`,
`nan_to_num`, `logit`, `float_power` and the in-place forms: values, dtypes for integer and
bool inputs, gradients, `grad_fn` names and errors."""

import numpy as np
import pytest
from torch_diff import check, check_raises, gradients

RNG = np.random.default_rng(1)
UNIT = RNG.uniform(-0.9, 0.9, (2, 3)).astype(np.float32)  # inside every domain that needs |x| < 1
ABOVE_ONE = RNG.uniform(1.2, 3.0, (2, 3)).astype(np.float32)
ANY = RNG.standard_normal((2, 3)).astype(np.float32)
OPEN_UNIT = RNG.uniform(0.05, 0.95, (2, 3)).astype(np.float32)


def differentiable(torch, fn, *arrays):
    check(torch, lambda T: gradients(T, fn, *arrays))


UNARY_DOMAINS = {
    "asin": UNIT, "acos": UNIT, "atan": ANY, "arcsin": UNIT, "arccos": UNIT, "arctan": ANY, "sinh": ANY, "cosh": ANY,
    "asinh": ANY, "acosh": ABOVE_ONE, "atanh": UNIT, "arcsinh": ANY, "arccosh": ABOVE_ONE, "arctanh": UNIT,
    "exp2": ANY, "expm1": ANY, "log2": ABOVE_ONE, "log10": ABOVE_ONE, "log1p": ABOVE_ONE, "erf": ANY, "erfc": ANY,
    "erfinv": UNIT, "lgamma": ABOVE_ONE, "digamma": ABOVE_ONE, "i0": ANY, "sinc": ANY, "deg2rad": ANY,
    "rad2deg": ANY, "frac": ANY * 3, "sgn": ANY, "absolute": ANY, "negative": ANY, "fix": ANY * 3,
    "sigmoid": ANY, "logit": OPEN_UNIT, "square": ANY, "rsqrt": ABOVE_ONE, "nan_to_num": ANY,
}


@pytest.mark.parametrize("name", list(UNARY_DOMAINS))
def test_unary_functions_values_and_gradients(torch, name):
    differentiable(torch, lambda T, x: (getattr(T, name)(x), getattr(x, name)()), UNARY_DOMAINS[name])


PREDICATES = ["isnan", "isinf", "isposinf", "isneginf", "isfinite", "signbit"]
INTEGER_CASES = ["asin", "atan", "sinh", "exp2", "expm1", "log2", "erf", "erfinv", "lgamma", "sinc", "deg2rad",
                 "sigmoid", "logit", "sgn", "nan_to_num", "positive", *PREDICATES]


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float64"])
def test_unary_functions_on_integers_and_bools_compute_in_torchs_dtypes(torch, dtype):
    def case(T):
        x = T.tensor([[1, 0, 3], [2, 1, 0]], dtype=getattr(T, dtype))
        return [getattr(T, name)(x) for name in INTEGER_CASES if not (name == "positive" and dtype == "bool")]

    check(torch, case)


def test_predicates_on_special_values(torch):
    def case(T):
        x = T.tensor([float("nan"), float("inf"), -float("inf"), -0.0, 1.5], requires_grad=True)
        return [getattr(T, name)(x) for name in PREDICATES] + [getattr(x, name)() for name in PREDICATES]

    check(torch, case)


def test_nan_to_num_logit_round_with_arguments(torch):
    special = np.array([float("nan"), float("inf"), -float("inf"), 1.5, -0.25], np.float32)
    differentiable(torch, lambda T, x: (T.nan_to_num(x), T.nan_to_num(x, nan=2.0, posinf=1.0), x.nan_to_num(0.0, 1.0, -1.0)),
                   special)
    differentiable(torch, lambda T, x: (T.logit(x, eps=0.2), x.logit(0.1), T.logit(x)), np.array([0.05, 0.1, 0.5, 0.9, 0.97], np.float32))
    differentiable(torch, lambda T, x: (T.round(x, decimals=2), x.round(decimals=-1), T.round(x, decimals=0), T.round(x)),
                   ANY * 37)
    check(torch, lambda T: (T.round(T.tensor([0.125, 2.5, 0.135, -1.555]), decimals=2), T.nan_to_num(T.tensor([1, 2]), nan=2.5)))


UNARY_ERRORS = {
    "frac_int": lambda T: T.frac(T.tensor([1, 2])),
    "frac_bool": lambda T: T.tensor([True]).frac(),
    "positive_bool": lambda T: T.positive(T.tensor([True])),
    "round_decimals_int": lambda T: T.round(T.tensor([15]), decimals=-1),
    "absolute_bool": lambda T: T.absolute(T.tensor([True])),
    "negative_bool": lambda T: T.negative(T.tensor([True])),
}


@pytest.mark.parametrize("name", list(UNARY_ERRORS))
def test_unary_errors_match_torch(torch, name):
    check_raises(torch, UNARY_ERRORS[name])


# -- binary ---------------------------------------------------------------------------------------

BINARY_DIFFERENTIABLE = ["atan2", "arctan2", "hypot", "fmod", "remainder", "copysign", "logaddexp", "logaddexp2",
                         "xlogy", "fmax", "fmin", "nextafter", "ldexp", "float_power", "clamp_min", "clamp_max",
                         "maximum", "minimum"]
POSITIVE = RNG.uniform(0.5, 2.0, (2, 3)).astype(np.float32)


@pytest.mark.parametrize("name", BINARY_DIFFERENTIABLE)
def test_binary_functions_values_and_gradients(torch, name):
    other = np.array([[1.5, -0.7, 2.0], [-1.2, 0.4, 1.1]], np.float32)
    differentiable(torch, lambda T, x, y: (getattr(T, name)(x, y), getattr(x, name)(y)), POSITIVE, other)


@pytest.mark.parametrize("name", ["fmod", "remainder", "copysign", "xlogy", "float_power", "clamp_min", "clamp_max",
                                  "bitwise_left_shift", "atan2"])
@pytest.mark.parametrize("number", [2, -1.5])
def test_binary_functions_with_a_number(torch, name, number):
    def case(T):
        x = T.tensor(POSITIVE, requires_grad=True)
        results = [getattr(T, name)(x, number)]
        if name in ("xlogy", "float_power", "remainder", "bitwise_left_shift"):
            results.append(getattr(T, name)(number, x))
        return results

    check(torch, case)


KINDS = {
    "ints": lambda T: (T.tensor([5, -7, 9]), T.tensor([2, 3, -4])),
    "int32_int64": lambda T: (T.tensor([5, -7, 9], dtype=T.int32), T.tensor([2, 3, -4])),
    "bools": lambda T: (T.tensor([True, False, True]), T.tensor([True, True, False])),
    "int_float": lambda T: (T.tensor([5, -7, 9]), T.tensor([2.5, 3.0, -4.0])),
    "int_number": lambda T: (T.tensor([5, -7, 9]), 2.5),
    "float16_float": lambda T: (T.tensor([1.5, -2.0, 3.0], dtype=T.float16), T.tensor([2.0, 3.0, -4.0])),
    "broadcast": lambda T: (T.tensor([[1.5], [-2.0]]), T.tensor([2.0, 3.0, -4.0])),
    "zero_dim": lambda T: (T.tensor([1.5, -2.0, 3.0]), T.tensor(2.0, dtype=T.float64)),
}
BINARY_ALL = BINARY_DIFFERENTIABLE + ["heaviside", "gcd", "lcm", "bitwise_and", "bitwise_or", "bitwise_xor",
                                      "bitwise_left_shift", "bitwise_right_shift", "logical_and", "logical_or",
                                      "logical_xor", "floor_divide"]


@pytest.mark.parametrize("kind", list(KINDS))
def test_binary_functions_promote_or_refuse_dtypes_like_torch(torch, kind):
    """PyTorch's result dtypes (integer inputs in the default float dtype where it computes
    in floats), or its errors: kernels without integer or bool versions, numbers where
    only tensors are taken."""
    for name in BINARY_ALL:
        check(torch, lambda T: getattr(T, name)(*KINDS[kind](T)))


BINARY_ERRORS = {
    "number_input": lambda T: T.atan2(2.0, T.ones(2)),
    "number_other": lambda T: T.hypot(T.ones(2), 2),
    "number_input_with_number_overload": lambda T: T.fmod(2.0, T.ones(2)),
    "none_other": lambda T: T.copysign(T.ones(2), None),
    "str_other": lambda T: T.logaddexp(T.ones(2), "a"),
    "method_number": lambda T: T.ones(2).atan2(2),
    "heaviside_dtypes": lambda T: T.heaviside(T.ones(2), T.ones(2, dtype=T.float64)),
    "heaviside_values_number": lambda T: T.heaviside(T.ones(2), 1.0),
    "broadcast": lambda T: T.atan2(T.ones(2, 3), T.ones(3, 2)),
    "kernel_after_shapes": lambda T: T.hypot(T.ones(2, dtype=T.long), T.ones(3, dtype=T.long)),
    "clamp_min_number_input": lambda T: T.clamp_min(2.0, T.ones(2)),
    "clamp_max_bool": lambda T: T.clamp_max(T.tensor([True]), True),
}


@pytest.mark.parametrize("name", list(BINARY_ERRORS))
def test_binary_errors_match_torch(torch, name):
    check_raises(torch, BINARY_ERRORS[name])


def test_functions_without_a_derivative_raise_in_backward(torch):
    def case(T):
        x = T.tensor([0.5, -1.0, 0.0], requires_grad=True)
        return T.heaviside(x, T.tensor([0.5, 0.5, 0.5])).sum().backward()

    check_raises(torch, case)


def test_gradients_at_special_points_are_torchs(torch):
    """copysign's gradient is zero at zero; fmax/fmin give a tie to the first input and
    skip a nan; nextafter's gradient is 1 for its input."""
    x = np.array([0.0, -0.0, 1.5, 2.0, float("nan"), 1.0], np.float32)
    y = np.array([1.0, -1.0, 2.0, 2.0, 1.0, float("nan")], np.float32)
    differentiable(torch, lambda T, a, b: (T.copysign(a, b), T.fmax(a, b), T.fmin(a, b), T.nextafter(a, b)), x, y)


# -- in place --------------------------------------------------------------------------------------

IN_PLACE = {
    "sin_": lambda x: x.sin_(), "exp2_": lambda x: x.exp2_(), "erf_": lambda x: x.erf_(), "sigmoid_": lambda x: x.sigmoid_(),
    "atan2_": lambda x: x.atan2_(x * 2), "fmod_": lambda x: x.fmod_(0.3), "clamp_min_": lambda x: x.clamp_min_(0.0),
    "clamp_max_": lambda x: x.clamp_max_(0.1), "copysign_": lambda x: x.copysign_(-1.0), "round_": lambda x: x.round_(),
    "nan_to_num_": lambda x: x.nan_to_num_(), "logit_": lambda x: x.abs().logit_(0.1),
}


@pytest.mark.parametrize("name", list(IN_PLACE))
def test_in_place_forms(torch, name):
    differentiable(torch, lambda T, x: IN_PLACE[name](x * 1), ANY)


def test_in_place_forms_refuse_what_torch_refuses(torch):
    check_raises(torch, lambda T: T.tensor([1, 2]).sin_())  # a float result into an int tensor
    check_raises(torch, lambda T: T.ones(2, requires_grad=True).exp2_())
    check_raises(torch, lambda T: T.ones(3).atan2_(T.ones(2, 3)))
    check(torch, lambda T: T.tensor([1, 6]).gcd_(T.tensor([4, 4])))


def test_in_place_comparisons_scans_and_aliases(torch):
    def case(T):
        x = T.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
        return (x.clone().lt_(2), x.clone().eq_(T.tensor([1.0, 2.0, 1.0])), x.clone().cumsum_(1), x.clone().cumprod_(0),
                x.clone().divide_(2), x.clone().multiply_(x), x.clone().subtract_(1), x.clone().true_divide_(4),
                x.divide(2), x.multiply(3), x.subtract(x), x.clone().clip_(1.5, 2.5))

    check(torch, case)
