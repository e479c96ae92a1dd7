"""Ops that order, select, gather, scatter and move elements, against PyTorch: `cumsum`/
`cumprod`/`logcumsumexp`, `sort`/`argsort`/`topk`/`kthvalue`, `gather`/`scatter`/
`scatter_add`/`index_select`/`masked_fill` (and in place), `flip`/`roll`/`tril`/`triu`/
`diag`/`meshgrid`, and the ops whose shape depends on values (`nonzero`, one-argument
`where`, `masked_select`, `bincount`, `unique`): values, dtypes, return types, gradients,
`grad_fn` names and errors."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_diff import check, check_raises, gradients

X = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]], np.float32)
X3 = np.random.default_rng(2).permutation(24).reshape(2, 3, 4).astype(np.float32)  # distinct: no ties


def differentiable(torch, fn, *arrays):
    check(torch, lambda T: gradients(T, fn, *arrays))


# -- scans -----------------------------------------------------------------------------------------

SCANS = {
    "cumsum": lambda T, x: T.cumsum(x, 1), "cumsum_method": lambda T, x: x.cumsum(dim=-1),
    "cumprod": lambda T, x: T.cumprod(x, 0), "cumprod_zeros": lambda T, x: (x * (x > 1)).cumprod(2),
    "logcumsumexp": lambda T, x: T.logcumsumexp(x, 2), "cumsum_double": lambda T, x: T.cumsum(x, 0, dtype=T.float64),
}


@pytest.mark.parametrize("name", list(SCANS))
def test_scans_values_and_gradients(torch, name):
    differentiable(torch, SCANS[name], X3 / 10)


def test_scans_of_integers_bools_and_0d(torch):
    check(torch, lambda T: (T.cumsum(T.tensor([[1, 2], [3, 4]], dtype=T.int32), 1), T.cumprod(T.tensor([True, True]), 0),
                            T.cumsum(T.tensor([1, 2]), 0, dtype=T.float32), T.cumsum(T.tensor(2.0), 0)))
    check_raises(torch, lambda T: T.logcumsumexp(T.tensor([1, 2]), 0))
    check_raises(torch, lambda T: T.cumsum(T.ones(2, 3), 2))
    check_raises(torch, lambda T: T.cumsum(T.ones(2)), phrase="missing 1 required")


# -- ordering --------------------------------------------------------------------------------------

ORDERING = {
    "sort": lambda T, x: T.sort(x), "sort_dim0_descending": lambda T, x: T.sort(x, 0, True),
    "sort_method": lambda T, x: x.sort(dim=1, descending=True, stable=True),
    "topk": lambda T, x: T.topk(x, 2), "topk_smallest_dim1": lambda T, x: x.topk(1, 1, largest=False),
    "kthvalue": lambda T, x: T.kthvalue(x, 2),
    "kthvalue_keepdim": lambda T, x: x.kthvalue(1, 0, keepdim=True),
}


@pytest.mark.parametrize("name", list(ORDERING))
def test_ordering_values_indices_and_gradients(torch, name):
    differentiable(torch, lambda T, x: ORDERING[name](T, x).values, X3)
    check(torch, lambda T: ORDERING[name](T, T.tensor(X3)))


def test_msort_and_unsorted_topk(torch):
    """`topk(sorted=False)` leaves PyTorch's order unspecified: compared sorted."""
    differentiable(torch, lambda T, x: (T.msort(x), x.msort(), T.topk(x, 3, sorted=False).values.sort().values), X3)


def test_ordering_with_ties_nans_ints_and_bools(torch):
    """A stable sort keeps ties in input order; nan is the largest value."""
    def case(T):
        ints = T.tensor([3, 1, 2, 1, 3, 3])
        nans = T.tensor([1.0, float("nan"), 0.0, float("nan")])
        return (T.sort(ints, stable=True), T.sort(ints, descending=True, stable=True), T.argsort(ints, stable=True),
                T.argsort(T.tensor(X), 1, True), T.sort(nans), T.sort(nans, descending=True), T.sort(T.tensor([True, False, True])),
                T.sort(T.tensor(2.0)), T.topk(T.tensor(2.0), 1), T.topk(T.tensor([1, 5, 3]), 2), T.topk(nans, 1))

    check(torch, case)


ORDERING_ERRORS = {
    "sort_dim": lambda T: T.sort(T.ones(2, 3), 2), "topk_k_large": lambda T: T.topk(T.ones(2, 3), 4),
    "topk_k_negative": lambda T: T.topk(T.ones(3), -1), "topk_bool": lambda T: T.topk(T.tensor([True]), 1),
    "kthvalue_k": lambda T: T.kthvalue(T.ones(2, 3), 4), "kthvalue_zero": lambda T: T.kthvalue(T.ones(3), 0),
}


@pytest.mark.parametrize("name", list(ORDERING_ERRORS))
def test_ordering_errors(torch, name):
    check_raises(torch, ORDERING_ERRORS[name])


@settings(max_examples=10)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), data=st.data())
def test_sort_and_topk_over_random_shapes(torch, shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    k = data.draw(st.integers(0, shape[dim]))
    array = np.random.default_rng(len(shape) + dim).permutation(int(np.prod(shape))).reshape(shape).astype(np.float32)
    check(torch, lambda T: (T.sort(T.tensor(array), dim), T.topk(T.tensor(array), k, dim),
                            T.topk(T.tensor(array), k, dim, largest=False)))


# -- gathering -------------------------------------------------------------------------------------

INDEX = np.array([[0, 0], [1, 0]], np.int64)
DISTINCT = np.array([[2, 0], [1, 0]], np.int64)  # for scatter, which PyTorch leaves undefined at repeated positions
GATHERING = {
    "gather": lambda T, x: T.gather(x, 1, T.tensor(INDEX)),
    "gather_dim0_smaller_index": lambda T, x: x.gather(0, T.tensor([[1, 0, 1]])),
    "gather_int32": lambda T, x: T.gather(x, 1, T.tensor([[2], [0]], dtype=T.int32)),
    "scatter": lambda T, x: T.scatter(x, 1, T.tensor(DISTINCT), x[:, :2] * 10),
    "scatter_value": lambda T, x: T.scatter(x, 1, T.tensor(INDEX), 7.0),
    "scatter_keyword_value": lambda T, x: x.scatter(0, T.tensor([[1, 0, 1]]), value=-1.0),
    "scatter_add": lambda T, x: T.scatter_add(x, 1, T.tensor(INDEX), x[:, 1:] * 3),
    "scatter_add_method": lambda T, x: x.scatter_add(0, T.tensor([[1, 1, 0]]), x[:1] * 2),
    "index_select": lambda T, x: T.index_select(x, 1, T.tensor([2, 0, 2])),
    "index_select_0d_index": lambda T, x: x.index_select(0, T.tensor(1)),
    "index_select_empty": lambda T, x: T.index_select(x, 1, T.tensor([], dtype=T.long)),
    "masked_fill": lambda T, x: T.masked_fill(x, x > 2, 0.0),
    "masked_fill_tensor_value": lambda T, x: x.masked_fill(x > 2, x.sum()),
    "masked_fill_broadcast": lambda T, x: x.masked_fill(T.tensor([True, False, True]), -1.0),
    "masked_fill_grows": lambda T, x: x[0].masked_fill(T.ones(2, 3, dtype=T.bool), 2.0),
}


@pytest.mark.parametrize("name", list(GATHERING))
def test_gathering_values_and_gradients(torch, name):
    differentiable(torch, GATHERING[name], X)


IN_PLACE = {
    "scatter_": lambda T, y: y.scatter_(1, T.tensor(DISTINCT), T.ones(2, 2) * 3),
    "scatter_value_": lambda T, y: y.scatter_(1, T.tensor(INDEX), 9.0),
    "scatter_add_": lambda T, y: y.scatter_add_(1, T.tensor(INDEX), T.ones(2, 2)),
    "masked_fill_": lambda T, y: y.masked_fill_(y > 2, 1),
    "tril_": lambda T, y: y.tril_(), "triu_": lambda T, y: y.triu_(1),
}


@pytest.mark.parametrize("name", list(IN_PLACE))
def test_in_place_forms(torch, name):
    differentiable(torch, lambda T, x: IN_PLACE[name](T, x * 1), X)


def test_gathering_from_0d_tensors_and_with_empty_indices(torch):
    differentiable(torch, lambda T, x: (T.gather(x, 0, T.tensor(0)), T.gather(x, 0, T.tensor([0])), T.index_select(x, 0, T.tensor([0])),
                                        x.index_select(0, T.tensor(0)), T.scatter(x, 0, T.tensor(0), x * 2)), np.float32(2.0))
    check(torch, lambda T: (T.gather(T.ones(5), 0, T.zeros(2, 0, dtype=T.uint8)), T.gather(T.ones(5), 0, T.zeros(0, dtype=T.long))))


def test_scatter_with_a_deprecated_reduction(torch):
    def case(T):
        x = T.tensor(X, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return (T.scatter(x, 1, T.tensor(INDEX), T.ones(2, 2), reduce="add"),
                    T.scatter(x, 1, T.tensor(INDEX), 2.0, reduce="multiply"))

    check(torch, case)


GATHERING_ERRORS = {
    "gather_out_of_bounds": lambda T: T.gather(T.ones(2, 3), 1, T.tensor([[5]])),
    "gather_negative": lambda T: T.gather(T.ones(2, 3), 1, T.tensor([[-1]])),
    "gather_float_index": lambda T: T.gather(T.ones(2, 3), 1, T.tensor([[0.0]])),
    "gather_ndim": lambda T: T.gather(T.ones(2, 3), 1, T.tensor([0])),
    "gather_too_large": lambda T: T.gather(T.ones(2, 3), 1, T.zeros(3, 1, dtype=T.long)),
    "scatter_dtypes": lambda T: T.scatter(T.ones(2, 3), 1, T.tensor([[0]]), T.ones(1, 1, dtype=T.float64)),
    "scatter_src_small": lambda T: T.scatter(T.ones(2, 3), 1, T.zeros(1, 2, dtype=T.long), T.ones(1, 1)),
    "scatter_index_large": lambda T: T.scatter(T.ones(2, 3), 1, T.zeros(3, 1, dtype=T.long), 1.0),
    "scatter_float_index": lambda T: T.scatter(T.ones(2, 3), 1, T.tensor([[0.0]]), 1.0),
    "scatter_out_of_bounds": lambda T: T.scatter(T.ones(2, 3), 1, T.tensor([[3]]), 1.0),
    "scatter_src_ndim": lambda T: T.scatter(T.ones(2, 3), 1, T.tensor([[0]]), T.tensor(1.0)),
    "scatter_add_number": lambda T: T.scatter_add(T.ones(2, 3), 1, T.tensor([[0]]), 1.0),
    "scatter_leaf_in_place": lambda T: T.ones(2, 3, requires_grad=True).scatter_(1, T.tensor([[0]]), 1.0),
    "index_select_matrix": lambda T: T.index_select(T.ones(2, 3), 0, T.tensor([[0]])),
    "index_select_float": lambda T: T.index_select(T.ones(2, 3), 0, T.tensor([0.0])),
    "index_select_dim0": lambda T: T.index_select(T.ones(2, 3), 0, T.tensor([2])),
    "index_select_dim1": lambda T: T.index_select(T.ones(2, 3), 1, T.tensor([3])),
    "masked_fill_long_mask": lambda T: T.ones(3).masked_fill(T.tensor([1, 0, 1]), 0.0),
    "masked_fill_uint8_mask": lambda T: T.ones(3).masked_fill(T.tensor([1, 0, 1], dtype=T.uint8), 0.0),
    "masked_fill_vector_value": lambda T: T.ones(3).masked_fill(T.ones(3) > 0, T.tensor([1.0])),
    "masked_fill_mismatch": lambda T: T.ones(2, 3).masked_fill(T.ones(4, dtype=T.bool), 2.0),
    "masked_fill_in_place_grows": lambda T: T.ones(3).masked_fill_(T.ones(2, 3, dtype=T.bool), 0.0),
}


@pytest.mark.parametrize("name", list(GATHERING_ERRORS))
def test_gathering_errors(torch, name):
    check_raises(torch, GATHERING_ERRORS[name])


# -- rearranging -----------------------------------------------------------------------------------

REARRANGING = {
    "flip": lambda T, x: T.flip(x, (0,)), "flip_method": lambda T, x: x.flip(0, 2), "flip_list": lambda T, x: x.flip([1]),
    "fliplr": lambda T, x: T.fliplr(x), "flipud": lambda T, x: x.flipud(), "roll": lambda T, x: T.roll(x, 1),
    "roll_dims": lambda T, x: x.roll((1, -2), (0, 2)), "roll_one_dim": lambda T, x: T.roll(x, 2, 1),
    "tril": lambda T, x: T.tril(x), "triu": lambda T, x: x.triu(1), "tril_negative": lambda T, x: T.tril(x, -1),
    "diag_of_matrix": lambda T, x: T.diag(x[0]), "diag_offset": lambda T, x: x[1].diag(1),
    "diag_of_vector": lambda T, x: T.diag(x[0, 0]), "diag_of_vector_below": lambda T, x: T.diag(x[0, 1], -2),
    "meshgrid_ij": lambda T, x: T.meshgrid(x[0, 0], x[1, 1, :2], indexing="ij"),
    "meshgrid_xy_list": lambda T, x: T.meshgrid([x[0, 0], x[1, 1, :2], x[0, 2, :1]], indexing="xy"),
    "meshgrid_0d": lambda T, x: T.meshgrid(x[0, 0, 0], x[1, 0], indexing="ij"),
}


@pytest.mark.parametrize("name", list(REARRANGING))
def test_rearranging_values_and_gradients(torch, name):
    differentiable(torch, lambda T, x: REARRANGING[name](T, x), X3)


def test_meshgrid_without_indexing_warns_like_torch(torch):
    messages = []
    for T in (torch, __import__("nablax.stateful").stateful):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            T.meshgrid(T.ones(2), T.ones(3))
        messages.append([str(w.message).split(" (Triggered internally")[0] for w in caught])
    assert messages[0] == messages[1]
    check(torch, lambda T: T.meshgrid(T.tensor([1, 2]), T.tensor([3, 4, 5]), indexing="ij"))


REARRANGING_ERRORS = {
    "flip_int": lambda T: T.flip(T.ones(2, 3), 0), "flip_repeated": lambda T: T.ones(2, 3).flip(0, 0),
    "fliplr_1d": lambda T: T.fliplr(T.ones(3)), "flipud_0d": lambda T: T.flipud(T.tensor(1.0)),
    "roll_mismatch": lambda T: T.roll(T.ones(2, 3), (1, 2), (0,)), "roll_dim_range": lambda T: T.roll(T.ones(2), 1, 1),
    "tril_1d": lambda T: T.tril(T.ones(3)), "triu_0d": lambda T: T.triu(T.tensor(1.0)),
    "diag_3d": lambda T: T.diag(T.ones(2, 2, 2)), "diag_0d": lambda T: T.diag(T.tensor(2.0)),
    "meshgrid_2d": lambda T: T.meshgrid(T.ones(2, 3), T.ones(2), indexing="ij"),
    "meshgrid_dtypes": lambda T: T.meshgrid(T.ones(2), T.ones(2, dtype=T.float64), indexing="ij"),
    "meshgrid_indexing": lambda T: T.meshgrid(T.ones(2), indexing="foo"),
}


@pytest.mark.parametrize("name", list(REARRANGING_ERRORS))
def test_rearranging_errors(torch, name):
    check_raises(torch, REARRANGING_ERRORS[name], phrase="Expected 0D or 1D tensor" if name == "meshgrid_2d" else None)


# -- shapes from values ----------------------------------------------------------------------------


def test_nonzero_argwhere_and_one_argument_where(torch):
    def case(T):
        x = T.tensor(X, requires_grad=True)
        return (T.nonzero(x), x.nonzero(as_tuple=True), T.where(x > 1), T.argwhere(x), T.nonzero(T.tensor(3.0)),
                T.nonzero(T.tensor(0.0), as_tuple=True), T.nonzero(T.tensor(3), as_tuple=True), T.where(T.tensor([[1, 0], [0, 1]])),
                T.nonzero(T.zeros(2, 0)), T.nonzero(T.tensor([]), as_tuple=True), x.where(x > 2, T.zeros(3)))

    check(torch, case)
    check_raises(torch, lambda T: T.where(T.ones(2) > 0, T.ones(2)), phrase="where() received an invalid combination")


def test_masked_select(torch):
    differentiable(torch, lambda T, x: (T.masked_select(x, x > 1), x.masked_select(T.tensor([True, False, True]))), X)
    check(torch, lambda T: (T.masked_select(T.tensor([1.0, 2, 3]), T.ones(2, 3, dtype=T.bool)),
                            T.masked_select(T.tensor([1, 2, 3]), T.tensor(True))))
    check_raises(torch, lambda T: T.masked_select(T.ones(3), T.tensor([1, 0, 1])))
    check_raises(torch, lambda T: T.masked_select(T.ones(2, 3), T.ones(4, dtype=T.bool)))


def test_bincount(torch):
    def case(T):
        values = T.tensor([3, 1, 2, 1, 3, 3])
        weights = T.tensor([0.5, 1.0, 2.0, 3.0, 4.0, 5.0], requires_grad=True)
        return (T.bincount(values), values.bincount(minlength=7), T.bincount(values, weights),
                T.bincount(values, weights.detach().double()), T.bincount(values, values), T.bincount(T.tensor([], dtype=T.long)),
                T.bincount(T.tensor([1, 2], dtype=T.uint8), minlength=1), T.bincount(values, T.tensor([True] * 6)))

    check(torch, case)


BINCOUNT_ERRORS = {
    "negative": lambda T: T.bincount(T.tensor([-1])), "float": lambda T: T.bincount(T.tensor([1.0])),
    "bool": lambda T: T.bincount(T.tensor([True])), "matrix": lambda T: T.bincount(T.tensor([[1]])),
    "weights_length": lambda T: T.bincount(T.tensor([1, 2]), T.ones(3)),
    "minlength": lambda T: T.bincount(T.tensor([1]), minlength=-1),
    "backward": lambda T: T.bincount(T.tensor([0, 1]), T.ones(2, requires_grad=True)).sum().backward(),
}


@pytest.mark.parametrize("name", list(BINCOUNT_ERRORS))
def test_bincount_errors(torch, name):
    check_raises(torch, BINCOUNT_ERRORS[name])


def test_unique(torch):
    def case(T):
        values = T.tensor([3, 1, 2, 1, 3, 3])
        rows = T.tensor([[1, 2], [1, 2], [0, 1]])
        return (T.unique(values), T.unique(values, return_inverse=True, return_counts=True), values.unique(return_counts=True),
                T.unique(values, sorted=False), T.unique(values.view(2, 3), return_inverse=True),
                T.unique(rows, dim=0, return_inverse=True, return_counts=True), T.unique(values.view(2, 3), dim=1),
                T.unique(T.tensor(3)), T.unique(T.tensor([True, False, True])), T.unique(T.tensor([1.0, float("nan"), float("nan")])),
                T.unique(T.tensor(X, requires_grad=True)), T.unique(T.tensor(X, requires_grad=True), dim=0))

    check(torch, case)
    check_raises(torch, lambda T: T.unique(T.tensor(X, requires_grad=True)).sum().backward())
    check_raises(torch, lambda T: T.unique(T.tensor(X, requires_grad=True), dim=1).sum().backward())
    check_raises(torch, lambda T: T.unique(T.ones(3), dim=2))
