"""`torch.special`, `polygamma`, `mvlgamma`, `igamma`, `frexp` and `torch.signal.windows`
against PyTorch: values, gradients, `grad_fn` names, the inputs PyTorch does not
differentiate, and an error of each family. op_db (test_opinfo.py) covers the breadth."""

import numpy as np
import pytest
from torch_diff import check, check_raises, gradients

RNG = np.random.default_rng(5)
X = RNG.uniform(-3, 3, 12).astype(np.float32)
POSITIVE = RNG.uniform(0.1, 6, 12).astype(np.float32)
POINTS = np.array([-1.0, -0.7, -0.2, 0.0, 0.3, 0.5, 0.9, 1.0, 1.7], np.float32)
DEGREES = np.array([-1, 0, 1, 2, 3, 5, 7, 9, 12], np.float32)


@pytest.mark.parametrize("name", ["ndtr", "ndtri", "log_ndtr", "erfcx", "entr", "i1e", "expit"])
def test_differentiable_unary_functions(torch, name):
    values = np.clip(POSITIVE / 6, 0.01, 0.99) if name == "ndtri" else X
    check(torch, lambda T: gradients(T, lambda T, x: getattr(T.special, name)(x), values))


@pytest.mark.parametrize("name", ["bessel_j1", "bessel_y0", "modified_bessel_i1", "modified_bessel_k0",
                                  "scaled_modified_bessel_k1", "spherical_bessel_j0", "airy_ai"])
def test_bessel_functions_match_and_never_require_grad(torch, name):
    values = np.concatenate([X * 4, POSITIVE * 3, [0.0, 1e-6, np.inf, -np.inf, np.nan]]).astype(np.float32)
    check(torch, lambda T: getattr(T.special, name)(T.tensor(values, requires_grad=True)))


@pytest.mark.parametrize("kind", ["chebyshev_polynomial_t", "chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w",
                                  "hermite_polynomial_h", "laguerre_polynomial_l", "legendre_polynomial_p"])
def test_polynomials_of_tensor_degrees(torch, kind):
    x = POINTS / 2 + 0.5 if kind.startswith("shifted") else POINTS
    check(torch, lambda T: getattr(T.special, kind)(T.tensor(x)[:, None], T.tensor(DEGREES)))
    check(torch, lambda T: getattr(T.special, kind)(T.tensor([0.3, 2.0]), 4))
    check_raises(torch, lambda T: getattr(T.special, kind)(0.5, 2.0))


def test_polygamma_and_its_gradient_near_the_poles(torch):
    x = np.array([-2.5, -0.999, -0.5, 0.001, 0.5, 2.0, 7.5], np.float32)
    for n in range(4):
        check(torch, lambda T: gradients(T, lambda T, x: T.polygamma(n, x), x))
    check(torch, lambda T: gradients(T, lambda T, x: T.digamma(x), x))
    check_raises(torch, lambda T: T.polygamma(-1, T.tensor(x)))


def test_gradients_at_the_edges_of_the_domains(torch):
    x, y = np.array([0.0, 0.0, 1.5, -0.5], np.float32), np.array([2.0, -1.0, -1.0, 0.5], np.float32)
    check(torch, lambda T: gradients(T, lambda T, x, y: T.special.xlog1py(x, y), x, y))
    check(torch, lambda T: gradients(T, lambda T, x: T.special.entr(x), np.array([0.0, -1.0, 0.5], np.float32)))
    check(torch, lambda T: gradients(T, lambda T, p: T.special.ndtri(p), np.array([0.0, 0.5, 1.0], np.float32)))


def test_zeta_differentiates_in_q_only(torch):
    check(torch, lambda T: gradients(T, lambda T, q: T.special.zeta(3.0, q), POSITIVE))
    check(torch, lambda T: T.special.zeta(T.tensor([2.0, 3.0, 0.5]), T.tensor([-1.5, -8.5, 2.0])))
    check_raises(torch, lambda T: gradients(T, lambda T, x: T.special.zeta(x, 2.0), POSITIVE + 1))


def test_incomplete_gamma(torch):
    a = POSITIVE
    check(torch, lambda T: gradients(T, lambda T, x: T.igammac(T.tensor(a), x) + T.special.gammainc(T.tensor(a), x),
                                     POSITIVE[::-1].copy()))
    check_raises(torch, lambda T: gradients(T, lambda T, a: T.igamma(a, T.tensor(POSITIVE)), POSITIVE))
    check_raises(torch, lambda T: T.igamma(T.tensor([1, 2]), T.tensor([1, 2])))


def test_mvlgamma_and_frexp(torch):
    check(torch, lambda T: gradients(T, lambda T, x: T.special.multigammaln(x, 3), POSITIVE + 1))
    check(torch, lambda T: T.mvlgamma(T.tensor([0.5, 0.9, 1.2]), 3))
    check_raises(torch, lambda T: T.mvlgamma(T.tensor(POSITIVE), 0))
    check(torch, lambda T: T.frexp(T.tensor(np.array([0.0, -3.5, 1e-30, 6.0, np.inf], np.float32))))
    check(torch, lambda T: gradients(T, lambda T, x: T.frexp(x).mantissa, X))
    check_raises(torch, lambda T: T.frexp(T.tensor([1, 2])))


@pytest.mark.parametrize("name", ["bartlett", "blackman", "exponential", "gaussian", "kaiser"])
def test_windows(torch, name):
    for M in (0, 1, 6, 7):
        check(torch, lambda T: getattr(T.signal.windows, name)(M, sym=M != 6))
    check(torch, lambda T: getattr(T.signal.windows, name)(5, dtype=T.float64))
    check_raises(torch, lambda T: getattr(T.signal.windows, name)(-1))
    check_raises(torch, lambda T: getattr(T.signal.windows, name)(3, dtype=T.int64))
