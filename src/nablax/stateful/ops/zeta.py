"""The Hurwitz zeta function, trigamma and polygamma as PyTorch computes them
(aten/src/ATen/native/Math.h, derived from the Cephes Math Library): JAX's zeta loses its
accuracy for negative q, where PyTorch's sums terms until q + i passes 9, and JAX's
trigamma is infinite at the poles, where PyTorch's reflection gives large finite values.
Functions of arrays, with the derivatives PyTorch has (none in zeta's x).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

_MACHEP = 1.11022302462515654042e-16
# Euler-Maclaurin's coefficients, (2k)! / B_2k.
_EULER_MACLAURIN = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
                    -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15,
                    1.8152105401943546773e17, -7.1661652561756670113e18)


def _close_to_zero(term, total):
    return (-_MACHEP * total < term) & (term < _MACHEP * total)


def _direct_sum(x, q, done):
    """Σ (q + i)^-x for i = 0, 1, ... until a term is negligible (`done`) or, after nine
    terms, q + i passes 9: the sum, the last base and term, and which are done."""

    def going(state):
        i, a, b, s, done = state
        return ~done & ((i < 9) | (a <= 9))

    def body(state):
        i, a, b, s, done = state
        moving = going(state)
        a_next = a + 1
        b_next = a_next ** -x
        s_next = s + b_next
        finished = _close_to_zero(b_next, s_next)
        return (jnp.where(moving, i + 1, i), jnp.where(moving, a_next, a), jnp.where(moving, b_next, b),
                jnp.where(moving, s_next, s), done | (moving & finished))

    start = (jnp.zeros(q.shape, jnp.int32), q, jnp.zeros_like(q), q ** -x, done)
    _, a, b, s, done = jax.lax.while_loop(lambda state: jnp.any(going(state)), body, start)
    return a, b, s, done


def _tail(x, w, b, s, done):
    """The Euler-Maclaurin correction of the sum past the base `w` (terms until negligible)."""
    s = jnp.where(done, s, s + b * w / (x - 1) - 0.5 * b)
    a, k = jnp.ones_like(x), jnp.zeros_like(x)
    for coefficient in _EULER_MACLAURIN:
        a = a * (x + k)
        b = b / w
        t = a * b / coefficient
        s = jnp.where(done, s, s + t)
        done = done | (jnp.abs(t / s) < _MACHEP)
        k = k + 1
        a = a * (x + k)
        b = b / w
        k = k + 1
    return s


def _zeta_values(x, q):
    """ζ(x, q) = Σ (q + i)^-x in float64 (PyTorch's accumulation type), cast back."""
    dtype = jnp.result_type(x, q)
    x, q = jnp.broadcast_arrays(x.astype(jnp.float64), q.astype(jnp.float64))
    pole = (q <= 0) & (q == jnp.floor(q))
    undefined = (x < 1) | ((q <= 0) & ~pole & (x != jnp.floor(x)))
    special = (x == 1) | undefined | pole
    a, b, s, done = _direct_sum(x, jnp.where(special, 1.0, q), special)
    value = _tail(x, a, b, s, done)
    value = jnp.where(undefined, jnp.nan, jnp.where((x == 1) | pole, jnp.inf, value))
    return value.astype(dtype)


@jax.custom_jvp
def zeta(x, q):
    """The Hurwitz zeta function ζ(x, q); its derivative in q is -x ζ(x + 1, q)."""
    return _zeta_values(x, q)


@zeta.defjvp
def _zeta_jvp(primals, tangents):
    x, q = primals
    _, q_tangent = tangents
    return zeta(x, q), -x * zeta(x + 1, q) * q_tangent


def trigamma(x):
    """ψ'(x): reflected below 1/2, six steps of the recurrence, then the asymptotic series."""
    pi = jnp.asarray(math.pi, x.dtype)
    reflected = x < 0.5
    sin_pi_x = jnp.sin(pi * x)
    result = jnp.where(reflected, -(pi * pi) / (sin_pi_x * sin_pi_x), jnp.zeros_like(x))
    x = jnp.where(reflected, 1 - x, x)
    for _ in range(6):
        result = result + 1 / (x * x)
        x = x + 1
    ixx = 1 / (x * x)
    result = result + (1 + 1 / (2 * x) + ixx * (1 / 6 - ixx * (1 / 30 - ixx * (1 / 42)))) / x
    return jnp.where(reflected, -result, result)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def polygamma(n: int, x):
    """ψ^(n)(x) for n >= 1 (PyTorch's `polygamma`; n = 0 is digamma, elsewhere); its
    derivative is ψ^(n+1)(x)."""
    if n == 1:
        return trigamma(x)
    factorial = jnp.exp(jax.scipy.special.gammaln(jnp.asarray(n + 1, x.dtype)))
    return (1 if n % 2 else -1) * factorial * zeta(jnp.asarray(n + 1, x.dtype), x)


@polygamma.defjvp
def _polygamma_jvp(n, primals, tangents):
    (x,), (tangent,) = primals, tangents
    return polygamma(n, x), polygamma(n + 1, x) * tangent
