"""The Bessel and Airy functions of `torch.special` that JAX lacks (J0, J1, Y0, Y1, the
modified I0, I1, K0, K1 and scaled K0, K1, the spherical j0, Airy's Ai), computed as
PyTorch computes them (aten/src/ATen/native/Math.h, derived from the Cephes Math Library):
rational approximations and Chebyshev series over ranges of x, in the input's float dtype.
PyTorch's results never require grad, nor do these.

    >>> import nablax.stateful as torch
    >>> torch.special.bessel_j0(torch.tensor([0.0, 1.0]))
    tensor([1.0000, 0.7652])
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from . import cephes as C
from .elementwise import Unary, unary_function


def _polynomial(coefficients, x):
    """Σ c_i x^(n-i) by Horner's rule in x's dtype (the coefficients rounded to it)."""
    value = jnp.zeros_like(x)
    for coefficient in coefficients:
        value = value * x + jnp.asarray(coefficient, x.dtype)
    return value


def _chebyshev_series(coefficients, x):
    """Cephes' `chbevl`: the Chebyshev series with these coefficients at x."""
    b0, b1, b2 = jnp.full_like(x, coefficients[0]), jnp.zeros_like(x), jnp.zeros_like(x)
    for coefficient in coefficients[1:]:
        b2, b1 = b1, b0
        b0 = x * b1 - b2 + jnp.asarray(coefficient, x.dtype)
    return 0.5 * (b0 - b2)


def _constant(value, x):
    return jnp.asarray(value, x.dtype)


def _asymptotic(x, pp, pq, qp, qq, phase, sine: bool, z):
    """J or Y past 5: sqrt(2/(pi x)) (P cos(x - phase) - 5/x Q sin(x - phase)) for J, and
    with sin and cos exchanged (and a plus) for Y; z is (5/x)² as PyTorch forms it."""
    p = _polynomial(pp, z) / _polynomial(pq, z)
    q = _constant(5.0, x) / x * (_polynomial(qp, z) / _polynomial(qq, z))
    angle = x - _constant(phase, x)
    value = p * jnp.sin(angle) + q * jnp.cos(angle) if sine else p * jnp.cos(angle) - q * jnp.sin(angle)
    return value * _constant(0.797884560802865355879892119868763737, x) / jnp.sqrt(x)


_QUARTER_PI, _THREE_QUARTERS_PI = 0.785398163397448309615660845819875721, 2.356194490192344928846982537459627163


def _j0_of_positive(x):
    small = jnp.minimum(x, 5) ** 2
    near = ((small - _constant(5.78318596294678452118, x)) * (small - _constant(3.04712623436620863991e1, x))
            * _polynomial(C.J0_RP, small) / _polynomial(C.J0_RQ, small))
    near = jnp.where(x < 1e-5, 1 - x * x / 4, near)
    large = jnp.maximum(x, 5)
    far = _asymptotic(large, C.J0_PP, C.J0_PQ, C.J0_QP, C.J0_QQ, _QUARTER_PI, False, 25 / (large * large))
    return jnp.where(x <= 5, near, far)


def bessel_j0(x):
    return _j0_of_positive(jnp.abs(x))


def _j1_of_positive(x):
    small = jnp.minimum(x, 5)
    near = (_polynomial(C.J1_RP, small * small) / _polynomial(C.J1_RQ, small * small) * small
            * (small * small - _constant(1.46819706421238932572e1, x))
            * (small * small - _constant(4.92184563216946036703e1, x)))
    large = jnp.maximum(x, 5)
    z = 5 / large * (5 / large)
    far = _asymptotic(large, C.J1_PP, C.J1_PQ, C.J1_QP, C.J1_QQ, _THREE_QUARTERS_PI, False, z)
    return jnp.where(x <= 5, near, far)


def bessel_j1(x):
    return jnp.where(x < 0, -_j1_of_positive(-x), _j1_of_positive(x))


_TWO_OVER_PI = 0.636619772367581343075535053490057448


def _y_edges(x, value):
    """Y at 0 is -inf; Y of a negative number is nan."""
    return jnp.where(x == 0, -jnp.inf, jnp.where(x < 0, jnp.nan, value))


def bessel_y0(x):
    small = jnp.clip(x, 1e-30, 5)
    near = (_polynomial(C.Y0_YP, small * small) / _polynomial(C.Y0_YQ, small * small)
            + _constant(_TWO_OVER_PI, x) * jnp.log(small) * _j0_of_positive(small))
    large = jnp.maximum(x, 5)
    far = _asymptotic(large, C.J0_PP, C.J0_PQ, C.J0_QP, C.J0_QQ, _QUARTER_PI, True, 25 / (large * large))
    return _y_edges(x, jnp.where(x <= 5, near, far))


def bessel_y1(x):
    small = jnp.clip(x, 1e-30, 5)
    near = (small * (_polynomial(C.Y1_YP, small * small) / _polynomial(C.Y1_YQ, small * small))
            + _constant(_TWO_OVER_PI, x) * (_j1_of_positive(small) * jnp.log(small) - 1 / small))
    large = jnp.maximum(x, 5)
    far = _asymptotic(large, C.J1_PP, C.J1_PQ, C.J1_QP, C.J1_QQ, _THREE_QUARTERS_PI, True, 5 / large * (5 / large))
    return _y_edges(x, jnp.where(x <= 5, near, far))


def _i_series(x, small_coefficients, large_coefficients):
    """exp(|x|) times the Chebyshev series of I on [0, 8] (in |x|/2 - 2), or over
    sqrt(|x|) past 8 (in 32/|x| - 2)."""
    a = jnp.abs(x)
    near = _chebyshev_series(small_coefficients, a / 2 - 2)
    far = _chebyshev_series(large_coefficients, 32 / jnp.maximum(a, 8) - 2) / jnp.sqrt(a)
    return jnp.exp(a), jnp.where(a <= 8, near, far)


def modified_bessel_i0(x):
    scale, series = _i_series(x, C.I0_A, C.I0_B)
    return scale * series


def modified_bessel_i1(x):
    scale, series = _i_series(x, C.I1_A, C.I1_B)
    series = jnp.where(jnp.abs(x) <= 8, series * jnp.abs(x), series)
    return jnp.where(x < 0, -(series * scale), series * scale)


def _k_edges(x, value):
    """K at 0 is inf; K of a negative number is nan."""
    return jnp.where(x == 0, jnp.inf, jnp.where(x < 0, jnp.nan, value))


def _k_series(x, small_coefficients, large_coefficients, small_form, scaled: bool):
    """K on (0, 2] by `small_form(x, series)` (times exp(x) when `scaled`), past 2 the
    Chebyshev series in 8/x - 2 over sqrt(x) (times exp(-x) unless `scaled`)."""
    small = jnp.clip(x, 1e-30, 2)
    near = small_form(small, _chebyshev_series(small_coefficients, small * small - 2))
    large = jnp.maximum(x, 2)
    far = _chebyshev_series(large_coefficients, 8 / large - 2) / jnp.sqrt(large)
    value = jnp.where(x <= 2, near * jnp.exp(x) if scaled else near, far if scaled else jnp.exp(-x) * far)
    return _k_edges(x, value)


def _k0_near(x, series):
    return series - jnp.log(0.5 * x) * modified_bessel_i0(x)


def _k1_near(x, series):
    return jnp.log(0.5 * x) * modified_bessel_i1(x) + series / x


def modified_bessel_k0(x):
    return _k_series(x, C.K0_A, C.K0_B, _k0_near, scaled=False)


def modified_bessel_k1(x):
    return _k_series(x, C.K1_A, C.K1_B, _k1_near, scaled=False)


def scaled_modified_bessel_k0(x):
    return _k_series(x, C.K0_A, C.K0_B, _k0_near, scaled=True)


def scaled_modified_bessel_k1(x):
    return _k_series(x, C.K1_A, C.K1_B, _k1_near, scaled=True)


def spherical_bessel_j0(x):
    """sin(x)/x, by its Taylor series below 0.5; 0 at ±inf."""
    x2 = x * x
    series = 1 + x2 * _polynomial((1 / 6227020800, -1 / 39916800, 1 / 362880, -1 / 5040, 1 / 120, -1 / 6), x2)
    value = jnp.where(jnp.abs(x) < 0.5, series, jnp.sin(x) / x)
    return jnp.where(jnp.isinf(x), 0, value).astype(x.dtype)


def _airy_negative(x):
    """Ai below -2.09: its asymptotic form in z = 1 / (2/3 (-x)^(3/2))."""
    x = jnp.minimum(x, -2.09)
    zeta = -2 * x * jnp.sqrt(-x) / 3
    z = 1 / zeta
    z2 = z * z
    f = 1 + z2 * _polynomial(C.AIRY_AFN, z2) / _polynomial(C.AIRY_AFD, z2)
    g = z * _polynomial(C.AIRY_AGN, z2) / _polynomial(C.AIRY_AGD, z2)
    t = zeta + _constant(0.25 * math.pi, x)
    return _constant(5.64189583547756286948e-01, x) / jnp.sqrt(jnp.sqrt(-x)) * (jnp.sin(t) * f - jnp.cos(t) * g)


def _airy_positive(x):
    """Ai from 2.09: exp(-zeta) times a rational function of 1/zeta, zeta = 2/3 x^(3/2)."""
    x = jnp.maximum(x, 2.09)
    zeta = 2 * x * jnp.sqrt(x) / 3
    ratio = _polynomial(C.AIRY_AN, 1 / zeta) / _polynomial(C.AIRY_AD, 1 / zeta)
    return _constant(5.64189583547756286948e-01, x) * ratio / (2 * jnp.sqrt(jnp.sqrt(x)) * jnp.exp(zeta))


def _airy_series(x):
    """Ai near 0 by its power series, summed until a term is below the dtype's epsilon."""
    z = x * x * x
    epsilon = jnp.finfo(x.dtype).eps

    def body(state):
        f, g, k, m, n, t = state
        going = t > epsilon
        m = m * z / (k + 1)
        n = n * z / (k + 2)
        m = m / (k + 2)
        n = n / (k + 3)
        new = (f + m, g + n, k + 3, m, n, jnp.abs(m / (f + m)))
        return tuple(jnp.where(going, after, before) for after, before in zip(new, state))

    one = jnp.ones_like(x)
    start = (one, x, one, one, x, one)
    f, g, *_ = jax.lax.while_loop(lambda state: jnp.any(state[5] > epsilon), body, start)
    return _constant(0.355028053887817239260, x) * f - _constant(0.258819403792806798405, x) * g


def airy_ai(x):
    value = jnp.where(x < -2.09, _airy_negative(x), jnp.where(x >= 2.09, _airy_positive(x),
                                                                _airy_series(jnp.clip(x, -2.09, 2.09))))
    return jnp.where(jnp.isinf(x), jnp.nan, jnp.where(x > 103.892, 0, value)).astype(x.dtype)


_FUNCTIONS = (bessel_j0, bessel_j1, bessel_y0, bessel_y1, modified_bessel_i0, modified_bessel_i1, modified_bessel_k0,
              modified_bessel_k1, scaled_modified_bessel_k0, scaled_modified_bessel_k1, spherical_bessel_j0, airy_ai)
ROWS = [Unary(f"special_{fn.__name__}", fn, None, to_float=True, differentiable=False) for fn in _FUNCTIONS]
FUNCTIONS = {row.name.removeprefix("special_"): unary_function(row) for row in ROWS}
