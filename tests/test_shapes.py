"""Shape, view and copy ops against PyTorch: values, views that share their base, gradients
and one error of each family (op_db covers the breadth)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_diff import check_raises  # noqa: E402

import nablax.stateful as nb  # noqa: E402


def both(function):
    """`function` run with PyTorch and with nablax.stateful: (PyTorch's result, nablax's)."""
    return function(torch), function(nb)


def test_writes_through_the_new_views_reach_the_base():
    def write(m):
        x = m.zeros(3, 4)
        x.diagonal(1).add_(1)
        x.unfold(1, 2, 2)[0, 1].fill_(5)
        m.tensor_split(x, 3)[2].mul_(2)
        m.unbind(x, 1)[0].sub_(3)
        x.mT[3, 0] = 7
        m.atleast_3d(x)[1, 1, 0] = 9
        return x.tolist()

    expected, actual = both(write)
    assert actual == expected


def test_view_metadata_matches():
    def strides(m):
        x = m.zeros(3, 4, 5)
        return [x.diagonal(0, 0, 2).stride(), x.unfold(2, 2, 1).stride(), tuple(x.unfold(1, 2, 2).shape)]

    expected, actual = both(strides)
    assert actual == expected


def test_values_of_the_copies():
    def values(m):
        x = m.arange(12).reshape(3, 4)
        return [m.rot90(x, 1, (0, 1)).tolist(), x.repeat(2, 1, 2).shape, m.tile(x, (2,)).tolist(),
                m.repeat_interleave(x, m.tensor([1, 0, 2]), 0).tolist(), m.diag_embed(x[0], 1).tolist(),
                m.take(x, m.tensor([0, -1])).tolist(), m.take_along_dim(x, m.tensor([[7], [-1], [0]]), 1).tolist(),
                m.combinations(m.tensor([1, 2, 3]), 2, with_replacement=True).tolist(),
                m.cartesian_prod(m.tensor([1, 2]), m.tensor([3, 4])).tolist(), m.tril_indices(3, 4, 1).tolist(),
                [c.tolist() for c in m.unravel_index(m.tensor([5, -1, 7]), (2, 3))],
                m.fft.fftshift(m.arange(5)).tolist(), m.view_copy(x, (4, 3)).tolist(), x.sum_to_size(1, 4).tolist(),
                m.logspace(0, 3, 4, base=2, dtype=m.int64).tolist(), m.angle(m.tensor([-1.0, 0.0, 2.0])).tolist()]

    expected, actual = both(values)
    assert actual == expected


def test_a_copy_does_not_share_its_base():
    x = nb.zeros(2, 3)
    copy = nb.transpose_copy(x, 0, 1)
    copy[0, 0] = 1
    assert x.tolist() == [[0.0] * 3] * 2


def test_gradients_match():
    def gradient(m):
        x = m.arange(12.0).reshape(3, 4).requires_grad_()
        weights = m.arange(24.0).reshape(2, 3, 4) / 10
        total = ((x.diagonal(1) * 2).sum() + x.unfold(1, 2, 1).pow(2).sum() + m.take(x, m.tensor([0, 11, -1])).sum()
                 + (m.rot90(x, 1, (0, 1)) * m.arange(12.0).reshape(4, 3)).sum() + (x.repeat(2, 1, 1) * weights).sum()
                 + m.repeat_interleave(x, m.tensor([1, 0, 2, 1]), 1).pow(2).sum() + m.diag_embed(x, 1).pow(3).sum()
                 + m.take_along_dim(x, m.tensor([[3], [-1], [0]]), 1).sum() * 3)
        total.backward()
        return x.grad.numpy()

    expected, actual = both(gradient)
    np.testing.assert_allclose(actual, expected, rtol=1e-6)


@pytest.mark.parametrize("call", [
    lambda m: m.zeros(3, 3).diagonal(0, 1, 1),
    lambda m: m.zeros(3).unfold(0, 4, 1),
    lambda m: m.hsplit(m.zeros(3), 2),
    lambda m: m.zeros(3).repeat(2, 2, -1),
    lambda m: m.rot90(m.zeros(3)),
    lambda m: m.take(m.zeros(3), m.tensor([5])),
    lambda m: m.zeros(3).sum_to_size(2),
    lambda m: m.broadcast_shapes((2, 1), (3,), 4),
    lambda m: m.combinations(m.zeros(2, 2)),
    lambda m: m.zeros(3).mT,
    lambda m: m.empty_permuted((2, 3), (1, 1)),
    lambda m: m.zeros(2).float(memory_format=m.channels_last),
])
def test_errors_match(call):
    check_raises(torch, call)


def test_layouts_and_memory_formats_are_accepted():
    x = nb.zeros(2, 3, 4, 5, layout=nb.strided)
    assert x.to(nb.float64, memory_format=nb.channels_last).dtype is nb.float64
    assert x.clone(memory_format=nb.preserve_format).shape == x.shape
    assert repr(nb.channels_last) == "torch.channels_last" and repr(nb.strided) == "torch.strided"


def test_grad_fn_names_match():
    def names(m):
        y = m.arange(6.0).reshape(2, 3).requires_grad_()
        results = [y.diagonal(), y.unfold(1, 2, 1), y.unbind()[0], y.mT, m.take(y, m.tensor([0])), y.repeat(2, 1),
                   m.rot90(y), y.repeat_interleave(2), m.diag_embed(y), m.view_copy(y, (3, 2)), m.fill(y, 1.0)]
        return [r.grad_fn.name() for r in results]

    expected, actual = both(names)
    assert actual == expected
