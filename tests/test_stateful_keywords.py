"""The keywords PyTorch takes besides its own names, against PyTorch: NumPy's `axis=` and
`keepdims=` on reductions, `dim=`/`keepdim=` on `all`/`any` and the new reductions (amax,
amin, logsumexp, count_nonzero), `size=` on factories, and `out=` on math functions (the
write, the cast, the resize and autograd's refusal)."""

import warnings

import numpy as np
import pytest
from torch_diff import check, check_raises, gradients

import nablax.stateful as nxt

X = np.array([[3.0, 1.0, 3.0], [0.0, 5.0, 4.0]], np.float32)


def differentiable(torch, fn, *arrays):
    check(torch, lambda T: gradients(T, fn, *arrays))


NUMPY_KEYWORDS = {
    "sum": lambda T, x: T.sum(x, axis=0, keepdims=True), "sum_method": lambda T, x: x.sum(axis=(0, 1)),
    "mean": lambda T, x: x.mean(axis=1), "prod": lambda T, x: T.prod(x, axis=1, keepdims=True),
    "max": lambda T, x: T.max(x, axis=1).values, "min": lambda T, x: x.min(axis=0, keepdims=True).values,
    "amax": lambda T, x: T.amax(x, axis=1, keepdims=True), "amin": lambda T, x: x.amin(axis=(0, 1)),
    "std": lambda T, x: T.std(x, axis=1, keepdims=True), "var": lambda T, x: x.var(axis=0),
    "logsumexp": lambda T, x: T.logsumexp(x, axis=1), "softmax": lambda T, x: x.softmax(axis=0),
    "norm": lambda T, x: T.norm(x, dim=1, keepdim=True), "cumsum": lambda T, x: T.cumsum(x, axis=1),
}


@pytest.mark.parametrize("name", list(NUMPY_KEYWORDS))
def test_numpy_keywords_on_reductions(torch, name):
    differentiable(torch, NUMPY_KEYWORDS[name], X)


def test_numpy_keywords_on_index_reductions_and_truth(torch):
    check(torch, lambda T: (T.argmax(T.tensor(X), axis=1, keepdims=True), T.tensor(X).argmin(axis=0),
                            T.all(T.tensor(X), axis=1), T.tensor(X).any(axis=0, keepdims=True),
                            T.count_nonzero(T.tensor(X), axis=0)))


@pytest.mark.parametrize("case", [lambda T: T.sum(T.ones(2, 3), 0, axis=0), lambda T: T.sum(T.ones(2, 3), dim=0, axis=0),
                                  lambda T: T.ones(2, 3).sum(0, keepdim=True, keepdims=True),
                                  lambda T: T.mean(T.ones(2), axis=0, dim=0)],
                         ids=["positional_and_axis", "dim_and_axis", "keepdim_and_keepdims", "mean_both"])
def test_a_dim_given_both_ways_is_refused(torch, case, request):
    # PyTorch words mean's apart ("received an invalid combination of arguments").
    check_raises(torch, case, phrase="mean()" if request.node.callspec.id == "mean_both" else None)


ALL_ANY = {
    "all_dim": lambda T, x: T.all(x, 1), "any_dim": lambda T, x: x.any(dim=0), "all_tuple": lambda T, x: T.all(x, dim=(0, 1)),
    "all_keepdim": lambda T, x: x.all(0, keepdim=True), "any_tuple_keepdim": lambda T, x: T.any(x, (0, 1), keepdim=True),
    "all_empty_tuple": lambda T, x: T.all(x, ()), "all": lambda T, x: T.all(x), "any": lambda T, x: x.any(),
}


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "uint8"])
def test_all_and_any_with_dims_and_dtypes(torch, dtype):
    check(torch, lambda T: [fn(T, T.tensor(X).to(getattr(T, dtype))) for fn in ALL_ANY.values()])


def test_amax_amin_logsumexp_count_nonzero(torch):
    ties = np.array([[3.0, 1.0, 3.0], [5.0, 5.0, 4.0]], np.float32)
    differentiable(torch, lambda T, x: (T.amax(x), x.amax(1), T.amin(x, (0, 1)), x.amin(-1, True), T.logsumexp(x, (0, 1)),
                                        x.logsumexp(0, keepdim=True)), ties)
    check(torch, lambda T: (T.amax(T.ones(0, 2), 1), T.amax(T.tensor([True, False])), T.logsumexp(T.tensor([1, 2]), 0),
                            T.count_nonzero(T.tensor(ties)), T.tensor(ties).count_nonzero((0, 1)),
                            T.count_nonzero(T.tensor([True, False]))))


REDUCTION_ERRORS = {
    "amax_empty": lambda T: T.amax(T.ones(0, 2)), "amax_empty_dim": lambda T: T.amax(T.ones(0, 2), 0),
    "amax_repeated": lambda T: T.amax(T.ones(2, 3), (0, 0)), "all_dim_range": lambda T: T.all(T.ones(2, 3), 2),
    "logsumexp_no_dim": lambda T: T.logsumexp(T.ones(2)),
}


@pytest.mark.parametrize("name", list(REDUCTION_ERRORS))
def test_reduction_errors(torch, name):
    # Python words a missing argument as "argument: 'dim'", PyTorch as "arguments: \"dim\"".
    check_raises(torch, REDUCTION_ERRORS[name], phrase="missing 1 required" if name == "logsumexp_no_dim" else None)


# -- size= ---------------------------------------------------------------------------------------

FACTORIES = {
    "zeros": lambda T: T.zeros(size=(2, 3)), "ones": lambda T: T.ones(size=[2], dtype=T.int32),
    "empty": lambda T: T.empty(size=(0, 2)).shape, "full": lambda T: T.full(size=(2,), fill_value=3.0),
    "rand": lambda T: T.rand(size=(2, 3)).shape, "randn": lambda T: T.randn(size=T.Size([4])).dtype,
    "randint": lambda T: T.randint(3, size=(2,)).shape, "randint_low_high": lambda T: T.randint(low=1, high=3, size=(2,)).dtype,
    "normal": lambda T: T.normal(0.0, 1.0, size=(2, 3)).shape, "ones_size_object": lambda T: T.ones(size=T.Size([2, 1])),
}


@pytest.mark.parametrize("name", list(FACTORIES))
def test_size_keyword_on_factories(torch, name):
    check(torch, FACTORIES[name])


@pytest.mark.parametrize("case", [lambda T: T.zeros(2, size=(2, 3)), lambda T: T.zeros(), lambda T: T.ones(),
                                  lambda T: T.empty(), lambda T: T.zeros(size=3)],
                         ids=["both", "zeros_none", "ones_none", "empty_none", "int_size"])
def test_size_errors(torch, case):
    check_raises(torch, case)


# -- out= ----------------------------------------------------------------------------------------

OUT_CASES = {
    "add": lambda T, o: T.add(T.tensor([1.0, 2.0]), 1, out=o), "exp": lambda T, o: T.exp(T.tensor([1, 2]), out=o),
    "atan2": lambda T, o: T.atan2(T.tensor([1.0, 2.0]), T.tensor([2.0, 1.0]), out=o),
    "matmul": lambda T, o: T.matmul(T.ones(2, 2), T.tensor([1.0, 2.0]), out=o),
    "clamp": lambda T, o: T.clamp(T.tensor([-1.0, 2.0]), 0, 1, out=o),
    "cumsum": lambda T, o: T.cumsum(T.tensor([1.0, 2.0]), 0, out=o),
    "where": lambda T, o: T.where(T.tensor([True, False]), T.tensor([1.0, 2.0]), T.tensor([3.0, 4.0]), out=o),
    "mean_dim": lambda T, o: T.mean(T.ones(2, 2), 1, out=o),
}


@pytest.mark.parametrize("name", list(OUT_CASES))
def test_out_writes_the_result_into_the_given_tensor(torch, name):
    def case(T):
        out = T.full((2,), 7.0)
        alias = out.view(2)
        returned = OUT_CASES[name](T, out)
        return returned is out, out, alias

    check(torch, case)


def test_out_casts_where_torch_casts_and_sum_computes_in_its_dtype(torch):
    def case(T):
        into_double, into_int32 = T.empty(2, dtype=T.float64), T.empty(2, dtype=T.int32)
        T.add(T.tensor([1.0, 2.0]), 1, out=into_double)
        T.add(T.tensor([1, 2]), 1, out=into_int32)
        summed_long, summed_double = T.empty((), dtype=T.long), T.empty((), dtype=T.float64)
        T.sum(T.tensor([1.5, 2.0]), 0, out=summed_long)
        T.sum(T.tensor([1, 2]), 0, out=summed_double)
        return into_double, into_int32, summed_long, summed_double

    check(torch, case)


def test_out_of_tuples(torch):
    def case(T):
        values, indices = T.empty(2), T.empty(2, dtype=T.long)
        returned = T.max(T.tensor(X), 1, out=(values, indices))
        sorted_values, sorted_indices = T.empty(2, 3), T.empty(2, 3, dtype=T.long)
        T.sort(T.tensor(X), 1, out=(sorted_values, sorted_indices))
        return returned, returned.values is values, values, indices, sorted_values, sorted_indices

    check(torch, case)


@pytest.mark.parametrize("before", [(0,), (3,), (2, 2)])
def test_out_of_another_shape_is_resized_with_torchs_warning(torch, before):
    results = []
    for T in (torch, nxt):
        out = T.ones(*before)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            T.exp(T.tensor([0.0, 1.0]), out=out)
        results.append((tuple(out.shape), np.asarray(out).tolist(),
                        [str(w.message).split(" (Triggered internally")[0] for w in caught]))
    (shape, values, messages), (our_shape, our_values, our_messages) = results
    assert our_shape == shape and our_messages == messages
    np.testing.assert_allclose(our_values, values, rtol=1e-6)


OUT_ERRORS = {
    "float_into_long": lambda T: T.add(T.tensor([1.0, 2.0]), 1, out=T.empty(2, dtype=T.long)),
    "exp_into_int": lambda T: T.exp(T.tensor([1, 2]), out=T.empty(2, dtype=T.int32)),
    "mean_into_long": lambda T: T.mean(T.ones(2), 0, out=T.empty((), dtype=T.long)),
    "input_requires_grad": lambda T: T.exp(T.ones(2, requires_grad=True), out=T.empty(2)),
    "out_requires_grad": lambda T: T.exp(T.ones(2), out=T.empty(2, requires_grad=True)),
    "max_requires_grad": lambda T: T.max(T.ones(2, requires_grad=True), out=T.empty(())),
}


@pytest.mark.parametrize("name", list(OUT_ERRORS))
def test_out_errors(torch, name):
    check_raises(torch, OUT_ERRORS[name])


def test_out_without_grad_mode_and_for_results_without_gradients(torch):
    def case(T):
        x = T.ones(2, requires_grad=True)
        with T.no_grad():
            exp = T.exp(x, out=T.empty(2))
        below = T.lt(x, 1.5, out=T.empty(2, dtype=T.bool))
        position = T.argmax(x, 0, out=T.empty((), dtype=T.long))
        return exp, below, position

    check(torch, case)


def test_out_may_be_an_input(torch):
    def case(T):
        x = T.tensor([1.0, 2.0])
        T.add(x, 1, out=x)
        T.mul(x, x, out=x)
        return x

    check(torch, case)


def test_an_out_view_of_another_shape_is_refused_clearly():
    base = nxt.zeros(4)
    with pytest.raises(RuntimeError, match=r"exp\(\): out= is a view of shape \[3\]"):
        nxt.exp(nxt.ones(2), out=base[:3])
    nxt.exp(nxt.zeros(2), out=base[:2])  # a view of the right shape is written through
    np.testing.assert_array_equal(base.numpy(), [1.0, 1.0, 0.0, 0.0])
