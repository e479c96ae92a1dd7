"""Norms and products against PyTorch: `torch.linalg.norm`/`vector_norm`/`matrix_norm`,
`torch.norm` and `Tensor.norm`, `mv`, `outer`/`ger`, `trace` and `einsum`: values,
gradients (PyTorch's at zero too), `grad_fn` names and errors."""

import math
import subprocess
import sys

import numpy as np
import pytest
from torch_diff import check, check_raises, gradients

RNG = np.random.default_rng(3)
M = RNG.standard_normal((3, 4)).astype(np.float32)
B = RNG.standard_normal((2, 3, 4)).astype(np.float32)
V = RNG.standard_normal(5).astype(np.float32)


def differentiable(torch, fn, *arrays):
    check(torch, lambda T: gradients(T, fn, *arrays))


VECTOR_NORMS = {
    "default": lambda T, x: T.linalg.vector_norm(x), "ord1": lambda T, x: T.linalg.vector_norm(x, 1),
    "inf": lambda T, x: T.linalg.vector_norm(x, math.inf, dim=1), "neg_inf": lambda T, x: T.linalg.vector_norm(x, -math.inf),
    "ord3_dims": lambda T, x: T.linalg.vector_norm(x, 3, dim=(0, 2)),
    "keepdim": lambda T, x: T.linalg.vector_norm(x, 2.5, -1, True), "dtype": lambda T, x: T.linalg.vector_norm(x, dtype=T.float64),
    "linalg_norm_flat": lambda T, x: T.linalg.norm(x), "linalg_norm_dim": lambda T, x: T.linalg.norm(x, dim=1),
    "linalg_norm_ord_dim": lambda T, x: T.linalg.norm(x, 1, dim=-1, keepdim=True),
    "torch_norm": lambda T, x: T.norm(x), "torch_norm_p": lambda T, x: T.norm(x, 1, 2),
    "torch_norm_fro_dim": lambda T, x: T.norm(x, "fro", dim=1), "method_norm": lambda T, x: x.norm(dim=0, keepdim=True),
    "method_norm_p": lambda T, x: x.norm(p=3), "torch_norm_neg_inf": lambda T, x: T.norm(x, float("-inf")),
}


@pytest.mark.parametrize("name", list(VECTOR_NORMS))
def test_vector_norms(torch, name):
    differentiable(torch, VECTOR_NORMS[name], B)


MATRIX_NORMS = ["fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf]


@pytest.mark.parametrize("ord", MATRIX_NORMS, ids=str)
def test_matrix_norms(torch, ord):
    differentiable(torch, lambda T, x: (T.linalg.matrix_norm(x, ord), T.linalg.norm(x[0], ord),
                                        T.linalg.matrix_norm(x, ord, dim=(2, 0), keepdim=True)), B)


def test_norm_gradients_at_zero_are_torchs(torch):
    """PyTorch gives zero gradients where the norm is zero (the formulas divide by it)."""
    zeros = np.zeros((2, 3), np.float32)
    differentiable(torch, lambda T, x: (T.linalg.vector_norm(x), T.norm(x, 1), T.linalg.vector_norm(x, 3, dim=1),
                                        T.linalg.vector_norm(x, math.inf)), zeros)
    partly = np.array([[0.0, 0.0], [3.0, -4.0]], np.float32)
    differentiable(torch, lambda T, x: (T.linalg.vector_norm(x, dim=1), x.norm(1, dim=1), x.norm(p=math.inf, dim=1)), partly)


def test_zero_norm_counts_nonzero_elements(torch):
    """(PyTorch's backward of it gives no gradient at all, not zeros: not compared.)"""
    check(torch, lambda T: (T.linalg.vector_norm(T.tensor(B), 0), T.linalg.vector_norm(T.tensor([0.0, 2.0, -1.0]), 0, dim=0)))


def test_nuclear_norm_with_torch_norm_and_empty_matrices(torch):
    differentiable(torch, lambda T, x: (T.norm(x, "nuc"), x.norm(p="nuc")), M)
    check(torch, lambda T: (T.linalg.matrix_norm(T.zeros(0, 3)), T.linalg.vector_norm(T.zeros(0))))


NORM_ERRORS = {
    "vector_of_ints": lambda T: T.linalg.vector_norm(T.tensor([1, 2])),
    "norm_of_ints": lambda T: T.norm(T.tensor([1, 2])),
    "vector_str_ord": lambda T: T.linalg.vector_norm(T.ones(2), "fro"),
    "vector_repeated_dim": lambda T: T.linalg.vector_norm(T.ones(2, 2), dim=(0, 0)),
    "vector_inf_of_empty": lambda T: T.linalg.vector_norm(T.zeros(0), math.inf),
    "matrix_of_vector": lambda T: T.linalg.matrix_norm(T.ones(3)),
    "matrix_order": lambda T: T.linalg.matrix_norm(T.ones(2, 2), 3),
    "matrix_same_dims": lambda T: T.linalg.matrix_norm(T.ones(2, 2), dim=(0, 0)),
    "matrix_one_dim": lambda T: T.linalg.norm(T.ones(2, 2), "fro", dim=1),
    "matrix_three_dims": lambda T: T.norm(T.ones(1, 2, 2), "nuc"),
    "ord_of_3d": lambda T: T.linalg.norm(T.ones(1, 2, 2), 2),
    "matrix_norm_of_ints": lambda T: T.linalg.matrix_norm(T.ones(2, 2, dtype=T.long), 1),
}


@pytest.mark.parametrize("name", list(NORM_ERRORS))
def test_norm_errors(torch, name):
    check_raises(torch, NORM_ERRORS[name])


def test_mv_outer_trace(torch):
    differentiable(torch, lambda T, m, v: (T.mv(m, v[:4]), m.mv(v[1:]), T.outer(v, v[:3]), v.outer(v), T.ger(v[:2], v),
                                           T.trace(m), m[:, :3].trace()), M, V)
    check(torch, lambda T: (T.outer(T.tensor([1, 2]), T.tensor([1.5, 2.0], dtype=T.float64)),
                            T.outer(T.tensor([1, 2]), T.tensor([True])), T.trace(T.tensor([[1, 2], [3, 4]], dtype=T.int32)),
                            T.mv(T.ones(2, 3, dtype=T.long), T.ones(3, dtype=T.long))))


PRODUCT_ERRORS = {
    "mv_vector": lambda T: T.mv(T.ones(3), T.ones(3)), "mv_matrix_vec": lambda T: T.mv(T.ones(2, 3), T.ones(3, 1)),
    "mv_sizes": lambda T: T.mv(T.ones(2, 3), T.ones(2)),
    "mv_dtypes": lambda T: T.mv(T.ones(2, 3), T.ones(3, dtype=T.float64)),
    "outer_matrix": lambda T: T.outer(T.ones(2, 2), T.ones(2)), "outer_matrix_vec2": lambda T: T.outer(T.ones(2), T.ones(2, 2)),
    "trace_vector": lambda T: T.trace(T.ones(3)),
    "einsum_dtypes": lambda T: T.einsum("ij,jk->ik", T.ones(2, 2), T.ones(2, 2, dtype=T.float64)),
}


@pytest.mark.parametrize("name", list(PRODUCT_ERRORS))
def test_product_errors(torch, name):
    check_raises(torch, PRODUCT_ERRORS[name])


EINSUM = {
    "matmul": ("ij,jk->ik", (3, 4), (4, 2)), "matmul_transposed_out": ("ij,jk->ki", (3, 4), (4, 2)),
    "implicit": ("ij,jk", (3, 4), (4, 2)), "batch": ("bij,bjk->bik", (2, 3, 4), (2, 4, 5)),
    "dot": ("i,i->", (4,), (4,)), "dot_implicit": ("i,i", (4,), (4,)), "outer": ("i,j->ij", (3,), (4,)),
    "elementwise": ("ij,ij->ij", (3, 4), (3, 4)), "rows": ("ij,ij->i", (3, 4), (3, 4)),
    "transpose": ("ij->ji", (3, 4)), "identity": ("ij->ij", (3, 4)), "sum": ("ij->", (3, 4)), "column_sums": ("ij->j", (3, 4)),
    "trace": ("ii", (3, 3)), "diagonal": ("ii->i", (3, 3)), "ellipsis": ("...j,j->...", (2, 3, 4), (4,)),
    "three": ("ij,jk,kl->il", (2, 3), (3, 4), (4, 2)), "spaces": ("i j , j k -> i k", (3, 4), (4, 2)),
}


@pytest.mark.parametrize("name", list(EINSUM))
def test_einsum(torch, name):
    equation, *shapes = EINSUM[name]
    arrays = [RNG.standard_normal(shape).astype(np.float32) for shape in shapes]
    differentiable(torch, lambda T, *xs: T.einsum(equation, *xs), *arrays)


def test_einsum_takes_a_list_of_operands(torch):
    differentiable(torch, lambda T, x, y: T.einsum("ij,jk->ik", [x, y]), M, M.T.copy())


def test_torch_linalg_imports_as_torch_does():
    script = ("from nablax.stateful import as_torch; as_torch.install()\n"
              "import torch.linalg\n"
              "from torch.linalg import vector_norm\n"
              "print(vector_norm(torch.tensor([3.0, 4.0])).item(), torch.linalg.norm is torch.linalg.norm)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["5.0", "True"]


@pytest.mark.parametrize("shape", [(0, 0), (5, 0), (0, 5), (2, 0, 3)], ids=str)
def test_matrix_norms_of_empty_matrices(torch, shape):
    """The largest of no values is 0 for a norm; the smallest of none is PyTorch's error."""
    for ord in MATRIX_NORMS:
        for keepdim in (False, True):
            check(torch, lambda T: T.linalg.matrix_norm(T.ones(shape), ord, keepdim=keepdim))
