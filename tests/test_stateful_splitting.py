"""`split`, `chunk`, `narrow`, `select`, `unflatten`, `movedim`, `swapaxes`, `hstack`,
`vstack`, `bmm`, `addmm` and `nn.functional.normalize` against PyTorch: values, gradients,
shapes and errors."""

import numpy as np
import pytest
from torch_diff import check, check_raises, gradients

X = np.random.default_rng(5).standard_normal((4, 6, 5)).astype(np.float32)

CASES = {
    "split": lambda T, x: (T.split(x, 2, 1), x.split([1, 2, 3], dim=1), x.split(4, -1)),
    "chunk": lambda T, x: (x.chunk(4, dim=1), T.chunk(x, 3, -1), x.chunk(10), x[:, :0].chunk(3, dim=1)),
    "empty": lambda T, x: (x[:0].split(2), x[:, :0].split([0], 1), T.ones(0).split(2)),
    "narrow": lambda T, x: (x.narrow(1, -3, 2), T.narrow(x, 0, 1, 3)),
    "select": lambda T, x: (x.select(2, -1), T.select(x, 0, 1)),
    "unflatten": lambda T, x: (x.unflatten(1, (2, -1)), T.unflatten(x, -1, (5, 1))),
    "movedim": lambda T, x: (T.movedim(x, (0, 1), (2, 0)), x.movedim(-1, 0), T.moveaxis(x, 0, 1)),
    "swapaxes": lambda T, x: (x.swapaxes(0, 2), T.swapdims(x, 1, 2)),
    "stacks": lambda T, x: (T.hstack([x, x]), T.vstack([x[0], x[1]]), T.hstack([x[0, 0], x[1, 1]]),
                            T.vstack([x[0, 0], x[1, 1]])),
    "products": lambda T, x: (T.bmm(x, x.transpose(1, 2)), T.addmm(x[0, :, 0], x[0], x[1].t(), beta=0.5, alpha=2),
                              T.addmm(x[0, :5, :5], x[1, :5], x[2, :5].t())),
    "normalize": lambda T, x: (T.nn.functional.normalize(x), T.nn.functional.normalize(x, p=1.0, dim=-1)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_match_torch(torch, name):
    check(torch, lambda T: gradients(T, CASES[name], X))


ERRORS = {
    "split_negative": lambda T: T.ones(4).split(-1),
    "split_sizes": lambda T: T.ones(4).split([1, 2]),
    "chunk_zero": lambda T: T.ones(4).chunk(0),
    "narrow_length": lambda T: T.ones(4).narrow(0, 2, 3),
    "select_index": lambda T: T.ones(2, 3).select(1, 3),
    "bmm_rank": lambda T: T.bmm(T.ones(2, 3), T.ones(3, 2)),
    "bmm_sizes": lambda T: T.bmm(T.ones(2, 3, 4), T.ones(2, 5, 2)),
    "movedim_counts": lambda T: T.movedim(T.ones(2, 3), (0, 1), (0,)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(torch, name):
    check_raises(torch, ERRORS[name])
