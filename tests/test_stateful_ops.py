"""`nablax.stateful` ops against PyTorch's: values, result dtypes and shapes (type promotion,
broadcasting), gradients, `grad_fn` names and errors, for arithmetic, comparisons,
reductions, elementwise functions, matmul, shape ops, indexing and in-place ops.

Most cases are functions of the library `T` (see torch_diff.py); differentiable ones go
through `gradients`, which also compares the gradients of `(out * cotangent).sum()`."""

import operator
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes
from torch_diff import check, check_raises, grad_fn_name, gradients

import nablax.stateful as nxt

RNG = np.random.default_rng(0)
A = RNG.standard_normal((2, 3)).astype(np.float32)
B = RNG.standard_normal((2, 3)).astype(np.float32)
POSITIVE = RNG.uniform(0.5, 2.0, (2, 3)).astype(np.float32)
X3 = RNG.standard_normal((2, 3, 4)).astype(np.float32)


def differentiable(torch, fn, *arrays):
    """Checks `fn(T, *leaves)` and its gradients against PyTorch."""
    check(torch, lambda T: gradients(T, fn, *arrays))


# -- arithmetic ------------------------------------------------------------------------------------

BINARY = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv, "pow": operator.pow,
}


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("scalar", [2, 2.5, -1, 0.5])
def test_tensor_scalar_arithmetic_both_ways(torch, name, scalar):
    op = BINARY[name]
    differentiable(torch, lambda T, x: op(x, scalar), POSITIVE)
    differentiable(torch, lambda T, x: op(scalar, x), POSITIVE)


@pytest.mark.parametrize("name", list(BINARY))
def test_tensor_tensor_arithmetic(torch, name):
    differentiable(torch, lambda T, x, y: BINARY[name](x, y), POSITIVE, POSITIVE[::-1].copy())


@settings(max_examples=12)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       name=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2**16))
def test_binary_ops_broadcast_values_and_gradients_like_torch(torch, shapes, name, seed):
    rng = np.random.default_rng(seed)
    a, b = (rng.uniform(0.5, 2.0, shape).astype(np.float32) for shape in shapes.input_shapes)
    differentiable(torch, lambda T, x, y: BINARY[name](x, y), a, b)


def test_broadcasting_error_names_the_dimension(torch):
    check_raises(torch, lambda T: T.ones(2, 3) + T.ones(3, 2))
    check_raises(torch, lambda T: T.ones(2, 3) * T.ones(4, 1, 2))


def test_unary_minus_plus_and_abs(torch):
    differentiable(torch, lambda T, x: (-x, +x, abs(x)), A)
    check(torch, lambda T: (-T.tensor([1, -2]), abs(T.tensor([-3]))))


def test_alpha_of_add_and_sub(torch):
    differentiable(torch, lambda T, x, y: (T.add(x, y, alpha=2), T.sub(x, y, alpha=0.5), x.add(y, alpha=-1)), A, B)
    check_raises(torch, lambda T: T.add(T.tensor([1]), T.tensor([2]), alpha=2.5))


# -- type promotion --------------------------------------------------------------------------------

DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"]
PROMOTING = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "floordiv": operator.floordiv, "pow": operator.pow, "lt": operator.lt, "eq": operator.eq,
}


def operand(T, kind, dtype, values):
    """A tensor with dims, a 0-d tensor, or a Python scalar of the dtype's kind."""
    if kind == "scalar":
        return {"bool": True, "float16": 2.5, "float32": 2.5, "float64": 2.5}.get(dtype, 3)
    data = values if kind == "tensor" else values[0]
    return T.tensor(data, dtype=getattr(T, dtype))


@settings(max_examples=40)
@given(left=st.sampled_from(DTYPES), right=st.sampled_from(DTYPES), kinds=st.sampled_from(
    [("tensor", "tensor"), ("tensor", "zero_dim"), ("zero_dim", "tensor"), ("tensor", "scalar"), ("scalar", "tensor"),
     ("zero_dim", "zero_dim"), ("zero_dim", "scalar")]), name=st.sampled_from(sorted(PROMOTING)))
def test_type_promotion_matches_torch(torch, left, right, kinds, name):
    def case(T):
        a = operand(T, kinds[0], left, [1, 2, 3])
        b = operand(T, kinds[1], right, [3, 1, 2])
        return PROMOTING[name](a, b)

    check(torch, case)


PROMOTION_EXAMPLES = {
    "int_times_float_scalar": lambda T: T.tensor([1, 2, 3]) * 2.5,
    "int_div_int": lambda T: T.tensor([1, 2, 3]) / T.tensor([2, 2, 2]),
    "int_div_scalar": lambda T: T.tensor(2) / 4,
    "int32_times_int_scalar": lambda T: T.tensor([1, 2], dtype=T.int32) * 2,
    "int32_plus_0d_int64": lambda T: T.tensor([1, 2], dtype=T.int32) + T.tensor(1),
    "int32_plus_int64": lambda T: T.tensor([1, 2], dtype=T.int32) + T.tensor([1]),
    "int32_times_0d_float64": lambda T: T.tensor([1, 2], dtype=T.int32) * T.tensor(2.5, dtype=T.float64),
    "half_plus_scalar": lambda T: T.tensor([1.0, 2.0], dtype=T.float16) + 1.5,
    "half_plus_0d_float": lambda T: T.tensor([1.0, 2.0], dtype=T.float16) + T.tensor(1.5),
    "half_plus_float": lambda T: T.tensor([1.0, 2.0], dtype=T.float16) + T.tensor([1.5]),
    "half_plus_0d_double": lambda T: T.tensor([1.0, 2.0], dtype=T.float16) + T.tensor(1.5, dtype=T.float64),
    "half_plus_int": lambda T: T.tensor([1.0, 2.0], dtype=T.float16) + T.tensor([1, 2]),
    "half_div_half": lambda T: T.tensor([1.0, 2.0], dtype=T.float16) / T.tensor([3.0, 7], dtype=T.float16),
    "0d_double_times_float": lambda T: T.tensor(2.0, dtype=T.float64) * T.tensor([4.0]),
    "0d_double_times_int": lambda T: T.tensor(2.0, dtype=T.float64) * T.tensor([4]),
    "double_times_0d_float": lambda T: T.tensor([2.0], dtype=T.float64) * T.tensor(4.0),
    "0d_float_plus_int_scalar": lambda T: T.tensor(2.0) + 3,
    "0d_int_plus_float_scalar": lambda T: T.tensor(2) + 3.5,
    "int8_plus_uint8": lambda T: T.tensor([2], dtype=T.int8) + T.tensor([4], dtype=T.uint8),
    "uint8_minus_int8": lambda T: T.tensor([1, 2], dtype=T.uint8) - T.tensor([3], dtype=T.int8),
    "bool_plus_int": lambda T: T.tensor([True, False]) + 1,
    "bool_plus_bool": lambda T: T.tensor([True, False]) + T.tensor([True, True]),
    "bool_times_float": lambda T: T.tensor([True, False]) * 2.5,
    "int_plus_bool_scalar": lambda T: T.tensor([1, 2]) + True,
    "int_floordiv_mod": lambda T: (T.tensor([7, -7]) // 2, T.tensor([7, -7]) % 3, 7 // T.tensor([2, -3])),
    "float_floordiv_mod": lambda T: (T.tensor([7.5, -7.5]) // 2, T.tensor([7.5, -7.5]) % 2),
    "int_div_zero": lambda T: T.tensor([1, 0, -1]) / 0,
    "pow_int_float": lambda T: (T.tensor([2, 3]) ** 2.5, T.tensor([2, 3]) ** T.tensor(2.0), 2.5 ** T.tensor([2, 3])),
    "pow_ints": lambda T: (T.tensor([2, 3]) ** 2, 2 ** T.tensor([2, 3]), T.tensor([2.0, 3.0]) ** T.tensor([2, 3])),
    "sum_int": lambda T: (T.tensor([1, 2], dtype=T.int8).sum(), T.tensor([True, True]).sum(), T.tensor([1.0], dtype=T.float16).sum()),
    "sum_dtype": lambda T: (T.tensor([[1, 2], [3, 4]]).sum(dtype=T.float32), T.tensor([1.5, 2]).sum(dtype=T.int64),
                            T.tensor([1, 2]).mean(dtype=T.float64), T.tensor([1.0], dtype=T.float16).sum(dtype=T.float32)),
}


@pytest.mark.parametrize("name", list(PROMOTION_EXAMPLES))
def test_promotion_examples(torch, name):
    check(torch, PROMOTION_EXAMPLES[name])


ARITHMETIC_ERRORS = {
    "bool_minus_bool": lambda T: T.tensor([True]) - T.tensor([True]),
    "bool_minus_int": lambda T: T.tensor([True]) - 1,
    "int_minus_bool": lambda T: 1 - T.tensor([True]),
    "float_minus_true": lambda T: T.tensor([1.0]) - True,
    "neg_bool": lambda T: -T.tensor([True]),
    "int_negative_power": lambda T: T.tensor([2, 3]) ** -1,
    "add_none": lambda T: T.ones(2) + None,
    "none_plus": lambda T: None + T.ones(2),
    "mul_str": lambda T: T.ones(2, 3) * "a",
    "sub_list": lambda T: T.ones(2) - [1, 2],
    "matmul_int": lambda T: T.ones(2, 3) @ 2,
    "pow_none": lambda T: T.ones(2) ** None,
    "lt_none": lambda T: T.ones(2) < None,
    "method_with_none": lambda T: T.ones(2).add(None),
    "inplace_int_by_float": lambda T: T.arange(6).view(2, 3).__itruediv__(2),
    "inplace_int_times_float": lambda T: T.arange(6).view(2, 3).mul_(1.5),
    "inplace_broadcast_grows": lambda T: T.arange(6.0).view(2, 3).add_(T.ones(2, 2, 3)),
    "inplace_broadcast_mismatch": lambda T: T.arange(6.0).view(2, 3).add_(T.ones(3, 2)),
    "inplace_on_expanded": lambda T: T.arange(3.0).expand(2, 3).add_(1),
}

PHRASES = {"method_with_none": "argument 'other' (position 1) must be Tensor, not NoneType"}


@pytest.mark.parametrize("name", list(ARITHMETIC_ERRORS))
def test_arithmetic_errors_match_torch(torch, name):
    check_raises(torch, ARITHMETIC_ERRORS[name], phrase=PHRASES.get(name))


@pytest.mark.filterwarnings("ignore:__array_wrap__:DeprecationWarning")  # PyTorch's, with NumPy 2
def test_numpy_arrays_as_operands_are_tensors(torch):
    check(torch, lambda T: (T.ones(2) + np.ones(2), T.ones(2, 3) * np.arange(3.0), np.float64(2) * T.ones(2)))
    check_raises(torch, lambda T: T.tensor([1, 2]) < np.array([2, 2]))


def test_equality_with_other_objects_is_false(torch):
    check(torch, lambda T: (T.ones(2) == None, T.ones(2) != "a"))  # noqa: E711


PYTHON_NUMBERS = st.one_of(
    st.floats(width=64),
    st.sampled_from([0.0, -0.0, 0.1, 1e308, float("inf"), float("-inf"), float("nan")]),
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
)


@given(number=PYTHON_NUMBERS)
def test_a_python_number_computes_the_same_when_it_comes_again(torch, number):
    """Programs take a Python number as a JAX scalar kept from its first use: the second
    use gives PyTorch's values and dtypes too, and the sign of a zero (`1 / product`)."""

    def case(T):
        results = []
        for x in (T.tensor([1.5, -2.0, 0.0]), T.tensor([3, -4, 0])):
            product = x * number
            results += [product, x + number, x - number, 1 / product]
        return results

    check(torch, case)
    check(torch, case)


# -- comparisons and bitwise ops ------------------------------------------------------------------


def test_comparisons_with_scalars_and_tensors(torch):
    def case(T):
        x = T.tensor([1.0, 2.0, 3.0])
        return (x > 2, x < 2, x >= 2, x <= 2, x == 2, x != 2, 2 < x, x == T.tensor([1.0, 0, 3]), T.tensor([1, 2]) < 1.5,
                x.eq(x), T.eq(x, 2), T.lt(x, 2), T.gt(x, T.tensor([[0.0], [5.0]])))

    check(torch, case)


def test_comparisons_and_integer_results_never_require_grad(torch):
    def case(T):
        x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        return (x > 2, x == x, x.argmax(), x.argmin(0), x.max(0).indices, (x > 1) & (x < 3), ~(x > 1), x.long(), x.bool())

    check(torch, case)


def test_bitwise_ops_on_bool_and_int(torch):
    def case(T):
        b, c, i = T.tensor([True, False, True]), T.tensor([False, False, True]), T.tensor([1, 6, 3])
        return (b & c, b | c, b ^ c, ~b, b ^ True, True & b, i & 3, i | 8, i ^ 5, ~i, 5 & i, b & 3, ~T.tensor([0], dtype=T.uint8))

    check(torch, case)


@pytest.mark.parametrize("case", [lambda T: T.tensor([1.0, 6]) & 1, lambda T: T.ones(2) | T.ones(2),
                                  lambda T: T.ones(2).double() ^ 1, lambda T: T.tensor([1, 2]) & 1.5, lambda T: ~T.ones(2)],
                         ids=["and", "or", "xor_double", "and_float_scalar", "invert_float"])
def test_bitwise_ops_on_floats_raise(torch, case):
    check_raises(torch, case)


# -- reductions ----------------------------------------------------------------------------------------

REDUCTION_DIMS = [(None, False), (0, False), (1, True), (-1, False), (-1, True), ((0, 2), False), ((-1, 0), True)]


@pytest.mark.parametrize("dim, keepdim", REDUCTION_DIMS, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "prod"])
def test_sum_mean_prod(torch, name, dim, keepdim):
    if name == "prod" and isinstance(dim, tuple):
        dim = dim[0]  # prod reduces one dim at a time
    differentiable(torch, lambda T, x: getattr(x, name)() if dim is None else getattr(x, name)(dim, keepdim=keepdim), X3)
    differentiable(torch, lambda T, x: getattr(T, name)(x) if dim is None else getattr(T, name)(x, dim, keepdim), X3)


@settings(max_examples=12)
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple), data=st.data(),
       name=st.sampled_from(["sum", "mean", "prod", "max", "min", "softmax", "log_softmax", "argmax"]))
def test_reductions_over_random_shapes_and_dims(torch, shape, data, name):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keepdim = data.draw(st.booleans())
    array = np.random.default_rng(len(shape) + dim).standard_normal(shape).astype(np.float32)
    if name in ("softmax", "log_softmax"):
        differentiable(torch, lambda T, x: getattr(x, name)(dim), array)
    elif name == "argmax":
        check(torch, lambda T: T.tensor(array).argmax(dim, keepdim=keepdim))
    elif name in ("max", "min"):
        differentiable(torch, lambda T, x: getattr(x, name)(dim, keepdim=keepdim)[0], array)
    else:
        differentiable(torch, lambda T, x: getattr(x, name)(dim, keepdim=keepdim), array)


@pytest.mark.parametrize("dim", [0, 1, -1, 2])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_dim_return_values_and_indices(torch, name, dim, keepdim):
    differentiable(torch, lambda T, x: getattr(x, name)(dim, keepdim=keepdim).values, X3)
    check(torch, lambda T: (getattr(T.tensor(X3), name)(dim, keepdim), getattr(T, name)(T.tensor(X3), dim=dim),
                            getattr(T.tensor(X3), "arg" + name)(dim, keepdim=keepdim)))


def test_max_min_argmax_argmin_of_everything(torch):
    differentiable(torch, lambda T, x: (x.max(), x.min(), T.max(x)), X3)
    check(torch, lambda T: (T.tensor(X3).argmax(), T.tensor(X3).argmin(), T.argmax(T.tensor(X3), 1),
                            T.tensor(X3).argmax(keepdim=True), T.tensor([[1, 5, 3], [4, 2, 6]]).max()))


def test_max_min_return_types_print_like_torch(torch):
    for case in (lambda T: T.tensor([[1.0, 5, 3], [4, 2, 6]]).max(1),
                 lambda T: T.tensor([[1.0, 5, 3], [4, 2, 6]], requires_grad=True).min(0, keepdim=True)):
        ours, theirs = check(torch, case)[::-1]
        assert repr(ours) == repr(theirs)
        assert str(type(ours)) == str(type(theirs))
        values, indices = ours
        assert values is ours.values and indices is ours.indices


def test_reductions_with_ties_nans_and_zero_dims(torch):
    differentiable(torch, lambda T, x: (x.max(), x.max(1).values, x.min(0).values, x.sum(1)),
                   np.array([[1.0, 5, 5], [6, 6, 2]], np.float32))
    check(torch, lambda T: (T.tensor([[1.0, float("nan"), 5]]).max(1), T.tensor([[1.0, float("nan"), 5]]).argmax(),
                            T.tensor([[1.0, float("nan"), 5]]).max(), T.tensor(3.0).sum(0), T.tensor(3.0).max(0),
                            T.tensor(3.0).mean(0, keepdim=True), T.tensor(3.0).argmax(0), T.tensor(3.0).prod(0),
                            T.tensor(3.0).max(-1, keepdim=True), T.tensor([True, False]).max(),
                            T.ones(0, 3).sum(0), T.ones(0, 3).prod(0), T.ones(0, 3).mean(0), T.ones(0, 3).max(1)))


REDUCTION_ERRORS = {
    "mean_of_ints": lambda T: T.tensor([1, 2]).mean(),
    "mean_of_ints_dim": lambda T: T.tensor([1]).mean(0),
    "mean_of_bools": lambda T: T.tensor([True]).mean(),
    "dim_out_of_range": lambda T: T.ones(2, 3).sum(2),
    "dim_out_of_range_0d": lambda T: T.tensor(3.0).sum(1),
    "repeated_dim": lambda T: T.ones(2, 3).sum((0, 0)),
    "max_dim_out_of_range": lambda T: T.ones(2, 3).max(dim=2),
    "max_of_empty": lambda T: T.tensor([]).max(),
    "max_over_empty_dim": lambda T: T.ones(0, 3).max(0),
    "argmax_over_empty_dim": lambda T: T.ones(0, 3).argmax(0),
    "argmax_of_empty": lambda T: T.ones(0).argmax(),
    "argmax_of_bools": lambda T: T.tensor([True, False]).argmax(),
}


@pytest.mark.parametrize("name", list(REDUCTION_ERRORS))
def test_reduction_errors_match_torch(torch, name):
    check_raises(torch, REDUCTION_ERRORS[name])


# -- elementwise functions -----------------------------------------------------------------------------

UNARY = {
    "exp": lambda T, x: x.exp(), "log": lambda T, x: x.log(), "sqrt": lambda T, x: x.sqrt(), "abs": lambda T, x: x.abs(),
    "sin": lambda T, x: x.sin(), "cos": lambda T, x: x.cos(), "tanh": lambda T, x: x.tanh(),
    "sigmoid": lambda T, x: x.sigmoid(), "relu": lambda T, x: x.relu(), "neg": lambda T, x: x.neg(),
    "softmax_0": lambda T, x: x.softmax(0), "softmax_last": lambda T, x: T.softmax(x, dim=-1),
    "log_softmax": lambda T, x: x.log_softmax(1), "log_softmax_0": lambda T, x: T.log_softmax(x, 0),
    "clamp": lambda T, x: x.clamp(-0.5, 0.5), "clamp_min": lambda T, x: x.clamp(min=0), "clamp_max": lambda T, x: T.clamp(x, max=0.2),
    "clamp_reversed": lambda T, x: x.clamp(0.5, -0.5), "clip": lambda T, x: x.clip(-1, 1),
    "floor": lambda T, x: x.floor(), "round": lambda T, x: x.round(), "ceil": lambda T, x: x.ceil(),
    "square": lambda T, x: x.square(), "reciprocal": lambda T, x: x.reciprocal(), "sign": lambda T, x: x.sign(),
    "torch_functions": lambda T, x: (T.exp(x), T.tanh(x), T.relu(x), T.sigmoid(x), T.abs(x)),
}
NEEDS_POSITIVE = {"log", "sqrt", "reciprocal"}


@pytest.mark.parametrize("name", list(UNARY))
def test_elementwise_functions_values_and_gradients(torch, name):
    differentiable(torch, UNARY[name], POSITIVE if name in NEEDS_POSITIVE else A)


@pytest.mark.parametrize("name", ["abs", "relu", "clamp", "clamp_min", "clamp_max", "sqrt", "round", "sign"])
def test_gradients_at_kinks_and_bounds_are_torchs(torch, name):
    """abs'(0) = 0, relu'(0) = 0, clamp passes the gradient at its bounds, ..."""
    differentiable(torch, UNARY[name], np.array([[0.0, 0.5, -0.5], [1.0, 0.2, 2.5]], np.float32))


def test_clamp_with_tensor_bounds(torch):
    differentiable(torch, lambda T, x, low: (x.clamp(min=low), T.clamp(x, low, low + 1)), A, B)


def test_pow_gradients_at_zero_are_torchs(torch):
    data = np.array([[0.0, 1.0, 2.0], [0.0, -1.0, 3.0]], np.float32)
    exponents = np.array([[0.0, 0.0, 2.0], [2.0, 2.0, 0.5]], np.float32)
    differentiable(torch, lambda T, x, y: (x ** y, x ** 2, x ** 0, 2 ** y, 0 ** y), data, exponents)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float64", "float16"])
def test_elementwise_functions_on_other_dtypes(torch, dtype):
    def case(T):
        x = T.tensor([[1, 0, 3], [2, 1, 0]], dtype=getattr(T, dtype))
        results = [x.exp(), x.sqrt(), x.sigmoid(), x.tanh(), x.sin(), x.clamp(0, 2), x.clamp(0.5), x.sign()]
        if dtype != "bool":
            results += [x.abs(), x.relu(), x.floor(), x.round(), -x]
        return results

    check(torch, case)


UNARY_ERRORS = {
    "abs_bool": lambda T: T.tensor([True]).abs(),
    "relu_bool": lambda T: T.tensor([True]).relu(),
    "floor_bool": lambda T: T.tensor([True]).floor(),
    "round_bool": lambda T: T.tensor([True]).round(),
    "softmax_int_last": lambda T: T.tensor([[1, 2], [3, 4]]).softmax(1),
    "softmax_int_first": lambda T: T.tensor([[1, 2], [3, 4]]).softmax(0),
    "log_softmax_int": lambda T: T.tensor([[1, 2], [3, 4]]).log_softmax(-1),
    "clamp_without_bounds": lambda T: T.tensor([1.0]).clamp(),
    "softmax_dim_out_of_range": lambda T: T.ones(2, 3).softmax(2),
}


@pytest.mark.parametrize("name", list(UNARY_ERRORS))
def test_elementwise_errors_match_torch(torch, name):
    check_raises(torch, UNARY_ERRORS[name])


def test_softmax_of_ints_with_a_dtype(torch):
    check(torch, lambda T: T.tensor([[1, 2], [3, 4]]).softmax(1, dtype=T.float32))


# -- matmul ------------------------------------------------------------------------------------------------

MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
                 ((5, 2, 3), (5, 3, 4)), ((2, 3), (5, 3, 4)), ((3,), (5, 3, 4)), ((5, 2, 3), (3,)),
                 ((1, 5, 2, 3), (4, 1, 3, 2))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_in_all_its_cases(torch, shapes):
    a, b = (RNG.standard_normal(shape).astype(np.float32) for shape in shapes)
    differentiable(torch, lambda T, x, y: x @ y, a, b)
    differentiable(torch, lambda T, x, y: T.matmul(x, y), a, b)


def test_matmul_with_only_one_side_requiring_grad_and_mm_dot(torch):
    def case(T):
        x = T.tensor(A, requires_grad=True)
        out = (x @ T.tensor(B.T), T.tensor(B) @ x.t(), x.mm(T.tensor(B.T)), x[0].dot(T.tensor(B[0])), T.mm(x, x.T),
               T.dot(x[1], x[0]))
        sum(o.sum() for o in out).backward()
        return out, x.grad

    check(torch, case)


def test_integer_matmul(torch):
    check(torch, lambda T: (T.tensor([1, 2]) @ T.tensor([1, 2]), T.arange(6).view(2, 3) @ T.arange(6).view(3, 2)))


MATMUL_ERRORS = {
    "1d_1d": ((3,), (4,)), "2d_1d": ((2, 3), (2,)), "1d_2d": ((3,), (2, 2)), "2d_2d": ((2, 3), (2, 3)),
    "3d_3d": ((2, 2, 3), (2, 2, 2)), "3d_2d": ((2, 2, 3), (2, 2)), "3d_1d": ((2, 2, 3), (2,)),
    "1d_3d": ((3,), (2, 2, 2)), "2d_3d": ((2, 3), (2, 2, 2)), "batch": ((2, 2, 3), (3, 3, 2)),
    "0d": ((2,), ()),
}


@pytest.mark.parametrize("name", list(MATMUL_ERRORS))
def test_matmul_shape_errors_match_torch(torch, name):
    left, right = MATMUL_ERRORS[name]
    check_raises(torch, lambda T: T.ones(left) @ T.ones(right))


@pytest.mark.parametrize("shapes", [((2, 2), (2, 2)), ((2,), (2,)), ((2, 2, 2), (2, 2))], ids=str)
@pytest.mark.parametrize("dtypes", [("float64", "float32"), ("int32", "float32"), ("float16", "float32"), ("bool", "float32")])
def test_matmul_dtype_errors(torch, shapes, dtypes):
    check_raises(torch, lambda T: T.ones(*shapes[0], dtype=getattr(T, dtypes[0])) @ T.ones(*shapes[1], dtype=getattr(T, dtypes[1])))


def test_matmul_argument_type_errors(torch):
    check_raises(torch, lambda T: T.matmul(T.ones(2), 2))
    check_raises(torch, lambda T: T.ones(2).matmul(2))


# -- shape ops --------------------------------------------------------------------------------------------

SHAPE_OPS = {
    "view": lambda T, x: x.view(4, 6), "view_inferred": lambda T, x: x.view(-1, 6), "view_flat": lambda T, x: x.view(-1),
    "view_tuple": lambda T, x: x.view((3, 8)), "view_size": lambda T, x: x.view(T.Size([24])),
    "reshape": lambda T, x: x.reshape(2, -1, 3), "reshape_fn": lambda T, x: T.reshape(x, (6, 4)),
    "reshape_copy": lambda T, x: x.transpose(0, 2).reshape(-1), "T_2d": lambda T, x: x[0].T,
    "T_3d": lambda T, x: _quietly(lambda: x.T),
    "t": lambda T, x: x[0].t(), "t_fn": lambda T, x: T.t(x[0]), "transpose": lambda T, x: x.transpose(0, 2),
    "transpose_neg": lambda T, x: T.transpose(x, -1, 1), "permute": lambda T, x: x.permute(2, 0, 1),
    "permute_tuple": lambda T, x: T.permute(x, (1, 2, 0)), "unsqueeze": lambda T, x: x.unsqueeze(0),
    "unsqueeze_last": lambda T, x: x.unsqueeze(-1), "squeeze": lambda T, x: x.unsqueeze(1).unsqueeze(0).squeeze(),
    "squeeze_dim": lambda T, x: x.unsqueeze(1).squeeze(1), "squeeze_noop": lambda T, x: x.squeeze(0),
    "squeeze_tuple": lambda T, x: x.unsqueeze(0).squeeze((0, 1)), "flatten": lambda T, x: x.flatten(),
    "flatten_from": lambda T, x: x.flatten(1), "flatten_range": lambda T, x: T.flatten(x, 0, 1),
    "expand": lambda T, x: x[:, :1].expand(2, 5, 4), "expand_new_dims": lambda T, x: x.expand(3, 2, 3, 4),
    "expand_keep": lambda T, x: x[:, :1].expand(-1, 3, -1), "expand_as": lambda T, x: x[:1].expand_as(x),
    "view_as": lambda T, x: x.view_as(T.zeros(4, 6)), "clone": lambda T, x: x.clone(), "clone_fn": lambda T, x: T.clone(x),
    "contiguous": lambda T, x: x.transpose(0, 1).contiguous(), "detach": lambda T, x: x * x.detach(),
    "cat": lambda T, x: T.cat([x, x * 2]), "cat_dim": lambda T, x: T.cat([x, x[:, :1]], dim=1),
    "cat_negative_dim": lambda T, x: T.cat((x, x), -1), "concat": lambda T, x: T.concat([x, x], 2),
    "stack": lambda T, x: T.stack([x, x * 2]), "stack_dim": lambda T, x: T.stack([x, x], dim=2),
    "stack_last": lambda T, x: T.stack([x, x], -1), "where": lambda T, x: T.where(x > 0, x, x * 3),
    "where_scalar": lambda T, x: T.where(x > 0, x, 0.0), "where_broadcast": lambda T, x: T.where(x[:1] > 0, x[0], T.tensor(1.0)),
}


def _quietly(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


@pytest.mark.parametrize("name", list(SHAPE_OPS))
def test_shape_ops_values_gradients_and_grad_fns(torch, name):
    differentiable(torch, SHAPE_OPS[name], X3)


@pytest.mark.parametrize("shape", [(), (3,), (2, 3, 4)])
def test_T_warns_like_torch_off_matrices(torch, shape):
    messages = []
    for T in (torch, nxt):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            T.ones(shape).T
        messages.append([str(w.message).split(" (Triggered internally")[0] for w in caught])
    theirs, ours = messages
    assert len(ours) == 1 and "deprecated" in ours[0]
    assert ours == theirs or not theirs  # PyTorch warns once per process, so it may have warned already


def test_cat_stack_and_where_promote_dtypes(torch):
    def case(T):
        x, i = T.tensor([1.0, 2]), T.tensor([1, 2])
        return (T.cat([x, i]), T.stack([i, x]), T.cat([T.tensor([], dtype=T.int64), i]), T.cat([T.zeros(0), i.view(1, 2)]),
                T.where(T.tensor([True, False]), i, 0.5), T.where(T.tensor([True, False]), 1.0, 0.0),
                T.where(T.tensor([[True], [False]]), x, T.tensor(3)), T.cat([i.double(), x.half()]))

    check(torch, case)


def test_strides_and_contiguity_of_views(torch):
    def case(T):
        x = T.arange(24.0).view(2, 3, 4)
        views = [x, x.permute(2, 1, 0), x.transpose(0, 1), x[:, 1], x[..., ::2], x.unsqueeze(1), x[:, :1].expand(2, 3, 4), x.permute(1, 2, 0)]
        return [(v.stride(), v.is_contiguous()) for v in views]

    check(torch, case)


SHAPE_ERRORS = {
    "view_wrong_size": lambda T: T.arange(12.0).view(5, -1),
    "view_two_inferred": lambda T: T.arange(12.0).view(-1, -1),
    "view_incompatible_strides": lambda T: T.arange(12.0).view(3, 4).T.view(-1),
    "reshape_wrong_size": lambda T: T.arange(6.0).reshape(4, 2),
    "expand_shrinks": lambda T: T.tensor([[1.0], [2.0]]).expand(3, 3),
    "expand_fewer_dims": lambda T: T.ones(2, 3, dtype=T.int64).expand(2),
    "expand_non_singleton": lambda T: T.ones(2, 3, dtype=T.float64).expand(4, 3),
    "permute_wrong_length": lambda T: T.ones(2, 3).permute(0),
    "permute_repeated": lambda T: T.ones(2, 3).permute(0, 0),
    "transpose_out_of_range": lambda T: T.ones(2, 3).transpose(0, 2),
    "t_of_3d": lambda T: T.ones(2, 3, 4).t(),
    "flatten_reversed": lambda T: T.ones(2, 3, 4).flatten(2, 1),
    "unsqueeze_out_of_range": lambda T: T.ones(2).unsqueeze(3),
    "cat_mismatch": lambda T: T.cat([T.ones(1, 2), T.ones(2, 1)]),
    "cat_ndim": lambda T: T.cat([T.ones(1, 2), T.ones(2)]),
    "cat_empty_list": lambda T: T.cat([]),
    "stack_mismatch": lambda T: T.stack([T.ones(2), T.ones(3)]),
    "where_broadcast": lambda T: T.where(T.ones(2) > 0, T.ones(3), T.ones(2)),
}


@pytest.mark.parametrize("name", list(SHAPE_ERRORS))
def test_shape_errors_match_torch(torch, name):
    check_raises(torch, SHAPE_ERRORS[name])


# -- indexing -------------------------------------------------------------------------------------------------

INDICES = {
    "int": (0,), "negative": (-1,), "two_ints": (1, -1), "three_ints": (1, 2, 3), "slice": (slice(None), 1),
    "slice_step": (0, slice(None, None, 2), slice(1, 3)), "slice_negative_bounds": (slice(-1, None), slice(None, -1)),
    "slice_out_of_range": (slice(1, 10),), "empty_slice": (slice(2, 1),),
    "none": (None,), "none_middle": (slice(None), None, 1), "ellipsis": (Ellipsis, 2), "ellipsis_middle": (0, Ellipsis, 1),
    "ellipsis_none": (Ellipsis, None), "mask": "mask", "row_mask": "row_mask", "mask_and_slices": "mask_and_slices",
    "tensor": "tensor", "list": ([1, 0],), "list_of_lists": ([[0, 1], [1, 0]],), "two_lists": ([0, 1], [1, 2]),
    "lists_apart": ([0, 1], slice(None), [1, 2]), "list_then_slice": (slice(None), [0, 2]),
    "int_and_list": (1, slice(None), [0, 3]), "int_list_slice": (1, [0, 2], slice(1, 3)), "ellipsis_list": (Ellipsis, [0, -1]),
    "list_none": (Ellipsis, [0, 1], None), "broadcast_lists": (slice(None), [[0], [2]], [1, 3]),
    "list_none_list": ([0, 1], slice(None), None, [1, 2]), "0d_tensor": "0d_tensor", "0d_and_list": "0d_and_list",
    "bool_true": (True,), "bool_false": (False,), "bool_with_list": (slice(None), True, [0, 1]), "numpy": "numpy",
    "list_bool_mask": ([True, False],), "inner_bool_mask": (0, [True, False, True]), "repeated": ([0, 0, 1],),
}


def index_of(T, name):
    """The index called `name`, built for the library `T` where it holds tensors."""
    index = INDICES[name]
    mask = T.tensor(X3) > 0.3
    special = {
        "mask": (mask,), "row_mask": (T.tensor([True, False]),), "mask_and_slices": (mask[:, :, 0], slice(1, 3)),
        "tensor": (T.tensor([1, 0, 1]),), "0d_tensor": (T.tensor(1),), "0d_and_list": ([0, 1], T.tensor(1), [0, 2]),
        "numpy": (np.array([1, 0]),),
    }
    return special.get(index, index)


@pytest.mark.parametrize("name", list(INDICES))
def test_indexing_values_gradients_and_grad_fns(torch, name):
    differentiable(torch, lambda T, x: x[index_of(T, name)], X3)


def test_chained_indexing_and_views_of_views(torch):
    differentiable(torch, lambda T, x: (x[0][1], x[:, 1:][0, ::2], x.permute(2, 1, 0)[1][:, None], x.view(6, 4)[2:, 1]), X3)


INDEX_ERRORS = {
    "int_out_of_range": (2,), "second_int_out_of_range": (0, 5), "too_many": (0, 0, 0, 0), "list_out_of_range": ([0, 5],),
    "list_and_int_out_of_range": ([0], 5), "zero_step": (slice(None, None, 0),), "negative_step": (slice(None, None, -1),),
    "zero_step_with_list": ([0], slice(None, None, 0)), "float_list": ([0.5],), "float_tensor": "float_tensor",
    "wrong_mask": "wrong_mask", "unbroadcastable": ([0, 1], [0, 1, 2]), "two_ellipses_with_list": (Ellipsis, [0], Ellipsis),
}


@pytest.mark.parametrize("name", list(INDEX_ERRORS))
def test_indexing_errors_match_torch(torch, name):
    def case(T):
        special = {"float_tensor": (T.tensor([1.0]),), "wrong_mask": (T.tensor([True, False, True]),)}
        return T.tensor(X3)[special.get(INDEX_ERRORS[name], INDEX_ERRORS[name])]

    check_raises(torch, case)


def test_indexing_0d_tensors(torch):
    check(torch, lambda T: (T.tensor(5.0)[None], T.tensor(5.0)[...], T.tensor(5.0)[()], T.tensor(5.0)[True]))
    check_raises(torch, lambda T: T.tensor(5.0)[0])


SETITEMS = {
    "int_scalar": ((0,), 5.0), "slice_tensor": ((slice(None), 1), "column"), "mask": ("mask", 0.0),
    "lists": (([0, 1], [2, 2]), -1.0), "slice_0d_tensor": ((1, slice(1, 3)), "0d"), "broadcast_row": ((Ellipsis, 1), "pair"),
    "leading_ones": ((slice(None), 1), "leading_ones"), "int_and_list": ((1, [0, 2]), "row_of_two"),
    "list_of_rows": (([0],), "leading_ones_3"), "true": ((True,), 3.0), "false": ((False,), 4.0),
    "none": ((slice(None), None, 1), 7.0), "0d_index": ("0d", -2.0), "int_tensor_value": ((0,), "ints"),
    "empty_mask": ("empty_mask", "one"), "whole": ((slice(None),), 1.5), "ellipsis": ((Ellipsis,), 2.5),
}


def setitem_case(T, name, dtype="float32"):
    index, value = SETITEMS[name]
    y = T.zeros(2, 3, dtype=getattr(T, dtype))
    index = {"mask": (T.tensor(A) > 0,), "0d": (T.tensor(1), 0), "empty_mask": (y > 100,)}.get(index, index)
    value = {"column": T.tensor([1.0, 2.0]), "0d": T.tensor(9.0), "pair": T.tensor([1.0, 2.0]),
             "leading_ones": T.ones(1, 1, 2) * 2, "row_of_two": T.tensor([[5.0, 6.0]]), "leading_ones_3": T.ones(1, 1, 3) * 9,
             "ints": T.tensor([1, 2, 3]), "one": T.ones(1)}.get(value, value)
    y[index] = value
    return y


@pytest.mark.parametrize("name", list(SETITEMS))
def test_item_assignment(torch, name):
    check(torch, setitem_case, name)
    check(torch, setitem_case, name, "int64")


def test_item_assignment_of_floats_into_ints_truncates(torch):
    def case(T):
        y = T.zeros(2, 3, dtype=T.int64)
        y[0] = T.tensor([1.7, 2.2, -3.9])
        y[1, 0] = 2.7
        return y

    check(torch, case)


SETITEM_ERRORS = {
    "basic_too_big": lambda y, T: y.__setitem__(0, T.ones(2, 3)),
    "basic_wrong_size": lambda y, T: y.__setitem__(0, T.tensor([1.0, 2])),
    "basic_trailing_one": lambda y, T: y.__setitem__((slice(None), 0), T.ones(2, 1)),
    "advanced_too_big": lambda y, T: y.__setitem__([0, 1], T.ones(3, 3)),
    "advanced_into_empty": lambda y, T: y.__setitem__(y > 100, T.ones(3)),
    "out_of_range": lambda y, T: y.__setitem__(5, 1.0),
}


@pytest.mark.parametrize("name", list(SETITEM_ERRORS))
def test_item_assignment_errors(torch, name):
    check_raises(torch, lambda T: SETITEM_ERRORS[name](T.zeros(2, 3), T))


def test_item_assignment_in_a_graph(torch):
    def case(T):
        x = T.tensor(A, requires_grad=True)
        w = T.tensor(B, requires_grad=True)
        y = x * 1
        y[0, 0] = 10
        y[:, 1] = w[:, 0] * 2
        y[[1], [2]] = w[1, 1:2]
        z = T.zeros(2, 3)
        z[0] = y[1]
        z[z > 0] = 1
        (y.sum() + (z * T.tensor(B)).sum()).backward()
        return y, z, x.grad, w.grad

    check(torch, case)


# -- in-place ops ----------------------------------------------------------------------------------------------

INPLACE = {
    "methods": lambda T, x: (x.add_(1), x.sub_(2), x.mul_(3), x.div_(2)),
    "operators": lambda T, x: _augmented(x, T),
    "tensor_operands": lambda T, x: (x.add_(T.tensor([1.0, 2, 3])), x.mul_(T.tensor([[2.0], [3.0]])), x.sub_(x[0].clone())),
    "alpha": lambda T, x: (x.add_(T.ones(3), alpha=2), x.sub_(T.ones(2, 3), alpha=0.5)),
    "zero_fill": lambda T, x: (x.zero_(), x.fill_(2.5), x.fill_(T.tensor(1.5))),
    "ints": lambda T, x: (lambda i: (i.add_(1), i.mul_(2), i.fill_(2.5), i.zero_(), i.sub_(T.tensor([1, 2, 3]))))(x.long()),
    "int_plus_float_0d": lambda T, x: x.long().add_(T.tensor(1.5)),
    "column_of_view": lambda T, x: (x[:, 0].mul_(2), x),
    "flat_view": lambda T, x: (x.view(-1).add_(1), x),
    "transpose_and_row": lambda T, x: (x.T.add_(1), x[1].zero_(), x),
    "view_sees_base": lambda T, x: (lambda y: (x.add_(10), y))(x[:, 1:]),
    "detached_alias": lambda T, x: (lambda y: (y.add_(1), x))(x.detach()),
    "reshape_view": lambda T, x: (lambda y: (y.__setitem__((0, 0), 9), x))(x.reshape(3, 2)),
    "reshape_copy": lambda T, x: (lambda y: (y.__setitem__(0, 9), x))(x.T.reshape(6)),
    "flatten_view": lambda T, x: (lambda y: (y.__setitem__(0, 9), x))(x.flatten()),
    "index_copy": lambda T, x: (lambda y: (y.__setitem__((0, 0), 9), x))(x[[0]]),
    "clone_is_a_copy": lambda T, x: (lambda y: (y.__setitem__((0, 0), 100), x, y))(x.clone()),
    "methods_on_views": lambda T, x: (x[0].clamp_(0, 1), x[1].neg_(), x.pow_(2), x),
}


def _augmented(x, T):
    x += 1
    x -= T.tensor([1.0, 2, 3])
    x *= 2
    x /= 4
    return x


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_ops_and_their_effect_on_aliases(torch, name):
    check(torch, lambda T: INPLACE[name](T, T.tensor(A)))


INPLACE_IN_GRAPHS = {
    "chain": lambda T, x, w: _chain(x * 1, w),
    "augmented": lambda T, x, w: _augmented_graph(x * 1, x, w),
    "view_add": lambda T, x, w: (lambda y: (y.view(-1).add_(w.view(-1)), y)[1])(x.clone()),
    "row_write": lambda T, x, w: (lambda y: (y[0].mul_(w[1]), y[:, 1].add_(3), y)[2])(x * 2),
    "into_a_constant": lambda T, x, w: (lambda z: (z.add_(x), z.mul_(w), z)[2])(T.zeros(2, 3)),
    "after_a_use": lambda T, x, w: (lambda y: (lambda e: (y.add_(1), e * y)[1])(y.exp()))(x * w),
}


def _chain(y, w):
    y.add_(w)
    y.mul_(w)
    y.sub_(1)
    y.div_(w + 3)
    return y


def _augmented_graph(y, x, w):
    y += x
    y *= w
    y -= x * 2
    y /= 2
    return y


@settings(max_examples=12)
@given(shapes=mutually_broadcastable_shapes(num_shapes=1, base_shape=(2, 3), max_dims=3, max_side=3),
       name=st.sampled_from(["iadd", "isub", "imul", "itruediv"]))
def test_inplace_ops_broadcast_the_operand_like_torch(torch, shapes, name):
    operand = np.random.default_rng(len(shapes.input_shapes[0])).uniform(0.5, 2.0, shapes.input_shapes[0]).astype(np.float32)

    def case(T, x, y):
        out = x * 1
        return getattr(operator, name)(out, y)

    differentiable(torch, case, A, operand)


@pytest.mark.parametrize("name", list(INPLACE_IN_GRAPHS))
def test_inplace_ops_inside_graphs_have_torchs_gradients(torch, name):
    differentiable(torch, INPLACE_IN_GRAPHS[name], A, POSITIVE)


# -- found by differential fuzzing (tests/test_fuzz_torch.py) ------------------------------------------


def test_zero_dim_tensors_in_softmax_transpose_squeeze_and_cat(torch):
    differentiable(torch, lambda T, x: (x.softmax(0), x.log_softmax(-1), x.transpose(0, -1), x.t(), x.squeeze(0)),
                   np.float32(1.5))
    check_raises(torch, lambda T: T.tensor(1.0).transpose(1, 0))
    check_raises(torch, lambda T: T.cat([T.tensor(1.0), T.tensor(2.0)]))
    check(torch, lambda T: (T.cat([T.zeros(0), T.zeros(0, dtype=T.int64)], 5), T.ones(3).t()))
    check_raises(torch, lambda T: T.stack([T.tensor(1.0), T.zeros(0, 2)], 2), phrase="Dimension out of range")


def test_softmax_of_an_empty_integer_tensor_runs_no_kernel(torch):
    check(torch, lambda T: (T.zeros((2, 0), dtype=T.bool).softmax(1), T.zeros(0, dtype=T.int64).log_softmax(0)))


def test_methods_called_without_their_sizes_raise_type_errors(torch):
    check_raises(torch, lambda T: T.ones(2).view(), phrase="invalid combination of arguments")
    check_raises(torch, lambda T: T.ones(2).reshape())
    check_raises(torch, lambda T: T.tensor(1.0).permute())
    check(torch, lambda T: T.tensor(1.0, requires_grad=True).permute(()))


def test_float_exponents_with_integer_values(torch):
    differentiable(torch, lambda T, x: (x ** 2.0, x ** -1.0, x.pow(3.0)), POSITIVE)


def test_integer_powers_with_negative_tensor_exponents(torch):
    check(torch, lambda T: (2 ** T.tensor([-3, -1, 0, 2]), T.tensor([1, -1, -1, 0, 2]) ** T.tensor([-3, -3, -2, -1, -1])))


def test_bool_to_number_conversion_keeps_the_nan_of_inf_times_false(torch):
    check(torch, lambda T: (T.tensor(float("inf")) * False, T.tensor([float("inf")]) * T.tensor([False]),
                            T.tensor([float("inf")]) * T.tensor([False]).float()))


def test_floor_division_and_remainder_of_floats_by_zero_and_signs_of_zero(torch):
    x, y = np.array([-3.0, 3.0, -0.25, 0.25, 5.0, -0.5]), np.array([2.0, -2.0, -0.5, 0.0, 0.0, 0.0])
    check(torch, lambda T: (T.tensor(x) // T.tensor(y), T.tensor(x) % T.tensor(y), T.tensor(-0.5) // (T.tensor(-0.25) // -0.5)))


def test_sign_of_nan_is_zero_and_bools_square_as_integers(torch):
    check(torch, lambda T: (T.tensor([float("nan"), -0.0, 2.0]).sign(), T.tensor([True, False]).square()))


def test_ops_without_bool_kernels(torch):
    b = np.array([[True, False], [False, True]])
    check_raises(torch, lambda T: +T.tensor(b))
    for bounds in [(True, False), (True, None), (None, False)]:
        check_raises(torch, lambda T: T.tensor(b).clamp(*bounds))
    check_raises(torch, lambda T: T.clamp(T.tensor(b), T.tensor(b), T.tensor(b)))
    check(torch, lambda T: (T.tensor(b).clamp(T.tensor(b)), T.tensor(b).clamp(max=0)))
    check_raises(torch, lambda T: T.clamp(T.tensor(b), T.tensor(b), T.ones(4, dtype=T.bool)), phrase="must match")
    check_raises(torch, lambda T: T.tensor(b) // T.ones(3, dtype=T.bool), phrase="must match")
    check_raises(torch, lambda T: T.tensor(b) ^ T.ones(3), phrase="must match")


@pytest.mark.parametrize("shapes", [((2,), (2,)), ((2, 2), (2,)), ((2, 2), (2, 2)), ((2,), (2, 2)), ((2, 2, 2), (2, 2)),
                                    ((2, 2, 2), (2, 2, 2)), ((2, 2), (2, 2, 2)), ((2, 0), (0,)), ((0, 2), (2, 3)),
                                    ((1, 0), (0, 3)), ((0,), (0,)), ((2, 1, 0), (2, 0, 3)), ((1, 1, 2), (1, 1, 2))])
def test_matmul_of_bools_and_of_mixed_dtypes(torch, shapes):
    def case(T, left, right):
        return T.matmul(T.zeros(shapes[0], dtype=left), T.zeros(shapes[1], dtype=right))

    for left, right in [("bool", "bool"), ("bool", "float64"), ("float32", "bool"), ("float32", "float64")]:
        check(torch, lambda T: case(T, getattr(T, left), getattr(T, right)), phrase="")


def test_where_wants_a_bool_condition(torch):
    check_raises(torch, lambda T: T.where(T.tensor([1.0]), T.ones(1), T.zeros(1)))
    check_raises(torch, lambda T: T.where(T.tensor([1]), T.ones(1), T.zeros(1)))


def test_prod_reduces_one_dim_only(torch):
    check_raises(torch, lambda T: T.ones(2, 3).prod((0, 1)), phrase="invalid combination of arguments")


@pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0")
def test_var_and_std_are_one_node(torch):
    differentiable(torch, lambda T, x: (x.var(), x.std(1), x.var((0, 1)), x.var(0, keepdim=True), x.std(correction=0)), X3[0])
    check(torch, lambda T: T.tensor(2.0, requires_grad=True).var(0))
    check_raises(torch, lambda T: T.tensor([1, 2]).var())


def test_clamp_gradients_with_tensor_bounds_that_tie_or_cross(torch):
    values = [-2.0, -1.0, 0.0, 0.5, 1.0, 2.0]
    for low, high in [(-1.0, 1.0), (1.0, 1.0), (1.0, -1.0), (None, 0.5), (0.5, None)]:
        def case(T, low=low, high=high):
            x = T.tensor(values, requires_grad=True)
            bounds = [None if b is None else T.full((6,), b, requires_grad=True) for b in (low, high)]
            out = T.clamp(x, *bounds)
            out.sum().backward()
            return out, x.grad, [None if b is None else b.grad for b in bounds]

        check(torch, case)
    check(torch, lambda T: T.clamp(T.tensor([0.0, 1.0]), T.tensor([-1.0, 2.0]), T.tensor([float("nan"), 3.0])))


def test_slices_that_keep_a_whole_dim_as_written_are_skipped(torch):
    def case(T):
        x = T.zeros(3, 2, requires_grad=True) * 1
        return [grad_fn_name(y) for y in (x[0:3], x[:], x[:, 0:2], x[:, :5], x[1:, :], x[..., 1:], x[...], x[-5:],
                                          x[None, 1:], x[(slice(None),)])]

    check(torch, case)


def test_expand_gives_new_dims_of_size_one_torchs_strides(torch):
    check(torch, lambda T: (T.ones(3).expand(1, 3).stride(), T.ones(3).expand(2, 1, 3).stride(),
                            T.ones(1, 3).expand(1, 1, 2, 3).stride(), T.tensor(1.0).expand(1, 1).stride()))


def test_std_has_no_gradient_where_it_is_zero(torch):
    differentiable(torch, lambda T, x: (x.std(1), x.std(1, keepdim=True), x.std()), np.array([[1.0, 2.0], [1.0, 1.0]], np.float32))


def test_a_folded_matmul_with_a_row_result_is_not_copied(torch):
    check(torch, lambda T: [grad_fn_name((T.ones(m, 2) * T.ones(1, requires_grad=True)) @ T.ones(3, 2, n))
                            for m, n in [(1, 2), (2, 1), (2, 2)]])


def test_in_place_ops_check_the_broadcast_shape_before_the_dtypes(torch):
    check_raises(torch, lambda T: T.tensor([False])[-1].pow_(T.tensor([True])), phrase="doesn't match the broadcast shape")
    check_raises(torch, lambda T: T.zeros(2).add_(T.ones(3, 2)), phrase="doesn't match the broadcast shape")
