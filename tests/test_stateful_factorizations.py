"""Determinants, solves, factorizations and products of `torch.linalg` against PyTorch:
values, gradients, `grad_fn` names, result types and an error of each family."""

import numpy as np
import pytest
from torch_diff import check, check_raises, gradients

import nablax.stateful as nxt

RNG = np.random.default_rng(5)
SQUARE = (RNG.standard_normal((3, 3)) + 3 * np.eye(3)).astype(np.float32)
BATCH = (RNG.standard_normal((2, 3, 3)) + 3 * np.eye(3)).astype(np.float32)
SPD = (SQUARE @ SQUARE.T + np.eye(3)).astype(np.float32)
RHS = RNG.standard_normal((3, 2)).astype(np.float32)
WIDE = RNG.standard_normal((2, 4)).astype(np.float32)


def differentiable(torch, fn, *arrays):
    check(torch, lambda T: gradients(T, fn, *arrays))


CASES = {
    "det": (lambda T, a: T.linalg.det(a), BATCH),
    "slogdet": (lambda T, a: T.linalg.slogdet(a).logabsdet, BATCH),
    "logdet": (lambda T, a: T.logdet(a), SPD),
    "inv": (lambda T, a: T.linalg.inv(a), BATCH),
    "solve": (lambda T, a, b: T.linalg.solve(a, b), SQUARE, RHS),
    "solve_right": (lambda T, a, b: T.linalg.solve(a, b.T, left=False), SQUARE, RHS),
    "solve_triangular": (lambda T, a, b: T.linalg.solve_triangular(a, b, upper=True), SQUARE, RHS),
    "cholesky": (lambda T, a: T.linalg.cholesky(a), SPD),
    "cholesky_upper": (lambda T, a: T.cholesky(a, upper=True), SPD),
    "cholesky_solve": (lambda T, b, a: T.cholesky_solve(b, T.linalg.cholesky(a)), RHS, SPD),
    "lu_factor": (lambda T, a: T.linalg.lu_factor(a).LU, BATCH),
    "lu_solve": (lambda T, a, b: T.linalg.lu_solve(*T.linalg.lu_factor(a), b, adjoint=True), SQUARE, RHS),
    "qr": (lambda T, a: T.linalg.qr(a).R, WIDE.T.copy()),
    "svdvals": (lambda T, a: T.linalg.svdvals(a), WIDE),
    "eigvalsh": (lambda T, a: T.linalg.eigvalsh(a), SPD),
    "pinv": (lambda T, a: T.linalg.pinv(a), WIDE),
    "lstsq": (lambda T, a, b: T.linalg.lstsq(a, b).solution, RHS.T @ RHS + np.eye(2, dtype=np.float32), RHS[:2]),
    "matrix_power": (lambda T, a: T.linalg.matrix_power(a, -2), SQUARE),
    "multi_dot": (lambda T, a, b: T.linalg.multi_dot([b[:, 0], a, a, b]), SQUARE, RHS),
    "cross": (lambda T, a, b: T.linalg.cross(a, b[:, 0]), SQUARE, RHS),
    "cdist": (lambda T, a, b: T.cdist(a, b.T, p=1.5), SQUARE, np.vstack([RHS[:, :1].T, SQUARE[:1]]).T.copy()),
    "cov": (lambda T, a: T.cov(a, correction=0), WIDE),
    "kron": (lambda T, a, b: T.kron(a, b), WIDE, RHS),
    "addmv": (lambda T, x, a: T.addmv(x[:, 0], a, x[:, 1], beta=0.5, alpha=2), RHS, SQUARE),
    "trapezoid": (lambda T, y: T.trapezoid(y, dx=0.5, dim=0), WIDE),
}


@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients(torch, name):
    fn, *arrays = CASES[name]
    differentiable(torch, fn, *arrays)


def test_result_types_and_info(torch):
    check(torch, lambda T: (T.linalg.inv_ex(T.tensor(SQUARE)), T.linalg.cholesky_ex(T.tensor([[1.0, 2.0], [2.0, 1.0]])).info,
                            T.linalg.lu_factor_ex(T.tensor(BATCH)).info, T.linalg.slogdet(T.tensor(BATCH)),
                            T.linalg.matrix_rank(T.tensor(WIDE)), T.linalg.eigh(T.tensor(SPD)).eigenvalues))


def test_lu_unpacks_to_the_matrix(torch):
    check(torch, lambda T: T.lu_unpack(*T.linalg.lu_factor(T.tensor(BATCH))))
    check(torch, lambda T: T.linalg.lu(T.tensor(WIDE)))


ERRORS = {
    "singular_inv": lambda T: T.linalg.inv(T.tensor([[1.0, 2.0], [2.0, 4.0]])),
    "singular_batch": lambda T: T.linalg.inv(T.stack([T.eye(2), T.tensor([[1.0, 2.0], [2.0, 4.0]])])),
    "singular_solve": lambda T: T.linalg.solve(T.tensor([[1.0, 2.0], [2.0, 4.0]]), T.ones(2)),
    "not_positive_definite": lambda T: T.linalg.cholesky(T.tensor([[1.0, 2.0], [2.0, 1.0]])),
    "not_square": lambda T: T.linalg.det(T.ones(2, 3)),
    "integers": lambda T: T.linalg.inv(T.ones(2, 2, dtype=T.long)),
    "no_pivoting": lambda T: T.linalg.lu_factor(T.eye(2), pivot=False),
    "multi_dot_of_one": lambda T: T.linalg.multi_dot([T.ones(2)]),
    "cross_length": lambda T: T.linalg.cross(T.ones(2), T.ones(2)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors(torch, name):
    check_raises(torch, ERRORS[name])


def test_singular_matrices_raise_linalg_errors():
    with pytest.raises(nxt.linalg.LinAlgError):
        nxt.linalg.inv(nxt.zeros(2, 2))
