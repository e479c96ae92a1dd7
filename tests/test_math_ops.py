"""Direct comparisons with PyTorch of the math, order-statistic, search and indexed-write ops:
values, gradients and one error message a family (op_db covers the breadth)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_diff import check_raises  # noqa: E402

import nablax.stateful as nb  # noqa: E402


def close(actual, expected, atol=1e-6):
    np.testing.assert_allclose(np.asarray(actual.detach().numpy()), expected.detach().numpy(), atol=atol, rtol=1e-5)


def gradients(fn, *arrays):
    """(nablax's, PyTorch's) gradients of sum(fn(...) * weights) w.r.t. every array."""
    ours = [nb.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_ours, out_theirs = fn(nb, *ours), fn(torch, *theirs)
    weights = np.random.default_rng(0).standard_normal(tuple(out_theirs.shape)).astype(np.float32)
    (out_ours * nb.tensor(weights)).sum().backward()
    (out_theirs * torch.tensor(weights)).sum().backward()
    return [t.grad for t in ours], [t.grad for t in theirs]


X = np.array([[3.0, 1.0, np.nan, 2.0], [0.5, 4.0, 4.0, -1.0], [2.0, 2.0, 2.0, 0.0]], np.float32)
FINITE = np.nan_to_num(X, nan=5.0)


@pytest.mark.parametrize("fn", [
    lambda t, x: t.lerp(x, x * 2 + 1, 0.3),
    lambda t, x: t.addcdiv(x, x, x * x + 1, value=0.5),
    lambda t, x: t.quantile(x, t.tensor([0.1, 0.5, 0.9]), dim=1, keepdim=True),
    lambda t, x: t.nanquantile(x, 0.3, dim=0, interpolation="midpoint"),
    lambda t, x: t.median(x, 1).values,
    lambda t, x: t.cummax(x, 1).values,
    lambda t, x: t.scatter_reduce(x, 1, t.tensor([[0, 0, 3, 3]] * 3), x * 2, "prod", include_self=False),
    lambda t, x: t.index_reduce(x, 0, t.tensor([2, 0]), x[:2] + 1, "amax"),
    lambda t, x: t.diagonal_scatter(x, x[0, :3] * 3, 1),
    lambda t, x: t.gradient(x, spacing=[t.tensor([0.0, 1.0, 3.0]), t.tensor([0.0, 0.5, 2.0, 2.5])], edge_order=2)[1],
    lambda t, x: t.renorm(x, 2, 0, 3.0),
], ids=["lerp", "addcdiv", "quantile", "nanquantile", "median", "cummax", "scatter_reduce", "index_reduce",
        "diagonal_scatter", "gradient", "renorm"])
def test_values_and_gradients_match_pytorch(fn):
    data = X if "nanquantile" in fn.__code__.co_names else FINITE  # nanquantile's nan is its point
    close(fn(nb, nb.tensor(data)), fn(torch, torch.tensor(data)))
    ours, theirs = gradients(fn, data)
    for got, want in zip(ours, theirs):
        close(got, want, atol=1e-5)


def test_statistics_of_ties_and_nan_match_pytorch():
    values = np.array([[3, 1, 3, 1, 2, 2, 3, 1], [1, 2, 2, 1, 0, 9, 9, 9]])
    for name in ("median", "mode", "nanmedian"):
        ours, theirs = getattr(nb, name)(nb.tensor(values), 1), getattr(torch, name)(torch.tensor(values), 1)
        assert ours.values.tolist() == theirs.values.tolist() and ours.indices.tolist() == theirs.indices.tolist()
    ours, theirs = nb.cummin(nb.tensor(X), 1), torch.cummin(torch.tensor(X), 1)
    close(ours.values, theirs.values)
    assert ours.indices.tolist() == theirs.indices.tolist()
    low, high = nb.aminmax(nb.tensor(FINITE), dim=0)
    close(low, torch.aminmax(torch.tensor(FINITE), dim=0).min)
    close(high, torch.aminmax(torch.tensor(FINITE), dim=0).max)
    close(nb.nanmean(nb.tensor(X), 1), torch.nanmean(torch.tensor(X), 1))
    var, mean = nb.var_mean(nb.tensor(FINITE), 1, True)
    close(var, torch.var_mean(torch.tensor(FINITE), 1, True)[0])


def test_searches_and_runs_match_pytorch():
    sequence, values = [[1, 3, 5, 7], [2, 4, 6, 8]], [[3, 8], [1, 6]]
    for right in (False, True):
        assert nb.searchsorted(nb.tensor(sequence), nb.tensor(values), right=right).tolist() == \
            torch.searchsorted(torch.tensor(sequence), torch.tensor(values), right=right).tolist()
    assert nb.isin(nb.tensor([1, 2, 3]), nb.tensor([3, 1]), invert=True).tolist() == [False, True, False]
    runs = nb.unique_consecutive(nb.tensor([1, 1, 2, 2, 3, 1]), return_inverse=True, return_counts=True)
    expected = torch.unique_consecutive(torch.tensor([1, 1, 2, 2, 3, 1]), return_inverse=True, return_counts=True)
    assert [r.tolist() for r in runs] == [e.tolist() for e in expected]


def test_in_place_index_writes_and_integer_rules_match_pytorch():
    ours, theirs = nb.zeros(3, 2), torch.zeros(3, 2)
    for t, x in ((nb, ours), (torch, theirs)):
        x.index_add_(0, t.tensor([0, 2, 0]), t.ones(3, 2), alpha=2)
        x.index_fill_(1, t.tensor([1]), -1.0)
        x.masked_scatter_(x > 1, t.tensor([7.0, 8.0, 9.0, 10.0]))
        x.index_put_((t.tensor([1]), t.tensor([0])), t.tensor(5.0), accumulate=True)
    close(ours, theirs)
    assert nb.div(nb.tensor([-7, 7]), 2, rounding_mode="trunc").tolist() == [-3, 3]
    assert nb.arange(0.0, -8.000001, -4.0, dtype=nb.int64).tolist() == [0, -4]
    assert nb.linspace(50, 1, 50, dtype=nb.int64).tolist() == torch.linspace(50, 1, 50, dtype=torch.int64).tolist()
    assert nb.scatter_add(nb.tensor([True, False]), 0, nb.tensor([1]), nb.tensor([True])).tolist() == [True, True]


@pytest.mark.parametrize("call", [
    lambda t: t.quantile(t.tensor([1.0, 2.0]), 1.5),
    lambda t: t.addcdiv(t.tensor([1]), t.tensor([1]), t.tensor([1])),
    lambda t: t.zeros(3, 4).index_add(0, t.tensor([0, 1]), t.ones(3, 4)),
    lambda t: t.zeros(3).scatter_reduce(0, t.tensor([0]), t.ones(1), "add"),
    lambda t: t.slice_scatter(t.zeros(3, 4), t.ones(3), 0),
    lambda t: t.searchsorted(t.tensor([[1, 2]]), 1),
    lambda t: t.diff(t.tensor(1.0)),
], ids=["quantile", "addcdiv", "index_add", "scatter_reduce", "slice_scatter", "searchsorted", "diff"])
def test_errors_are_pytorchs(call):
    check_raises(torch, call)
