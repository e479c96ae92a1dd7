"""The orthogonal polynomials of `torch.special` (Chebyshev T, U, V, W and their shifted
forms, Hermite H and He, Laguerre L, Legendre P), `P_n(x)` elementwise for tensors of
points `x` and degrees `n`, as PyTorch computes them (aten/src/ATen/native/Math.h): its
closed forms at the ends of the interval and for high degrees, else the three-term
recurrence, run with `jax.lax.while_loop` up to the largest degree (so `n` is a tensor
like `x`). A degree is truncated to an integer; a negative one gives 0. PyTorch's results
never require grad, nor do these.

    >>> import nablax.stateful as torch
    >>> torch.special.hermite_polynomial_h(torch.tensor([1.0]), torch.tensor([3]))
    tensor([-4.])
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from ..grad_fn import NOT_DIFFERENTIABLE
from .pointwise import Binary, binary_function


def _degree(n):
    """PyTorch's cast of a degree to int64: truncated; nan, inf and numbers past int64's
    range become its lowest value (x86's conversion), a negative degree."""
    return jnp.where(jnp.abs(n) < 2.0 ** 63, jnp.trunc(n), -1)


def _recurrence(x, n, first, step: Callable):
    """P_n(x) from P_0 = 1, P_1 = `first` and P_{j+1} = step(j, x, P_{j-1}, P_j) for j = 1 ..
    n - 1; an element stops once its value is nan (PyTorch's loop does)."""
    x, n = jnp.broadcast_arrays(x, n)
    first = jnp.broadcast_to(first, x.shape)

    def active(j, q):
        return (j < n) & ~jnp.isnan(q)

    def body(state):
        j, p, q = state
        moving = active(j, q)
        return j + 1, jnp.where(moving, q, p), jnp.where(moving, step(j, x, p, q), q)

    start = (jnp.ones((), x.dtype), jnp.ones_like(x), first)
    _, _, value = jax.lax.while_loop(lambda state: jnp.any(active(state[0], state[2])), body, start)
    return jnp.where(n < 0, 0, jnp.where(n == 0, 1, value)).astype(x.dtype)


def _even(n):
    return jnp.fmod(n, 2) == 0


def _chebyshev_step(j, y, p, q):
    return (y + y) * q - p


def _chebyshev(first, ends, trigonometric, threshold: int, shifted: bool = False):
    """A Chebyshev family in `y` (= x, or 2x - 1 when `shifted`): the recurrence from
    `first(y)`, `trigonometric(y, n)` for degrees above `threshold` inside (-1, 1), and
    `ends(n, y > 0)` at y = ±1."""

    def polynomial(x, n):
        n = _degree(n)
        y = x + x - 1 if shifted else x
        at_end = (x == 1) | (x == 0) if shifted else jnp.abs(x) == 1
        closed = (n > threshold) & (jnp.abs(y) < 1)
        # Where a closed form applies, the recurrence does not run (PyTorch returns first).
        value = _recurrence(y, jnp.where(at_end | closed, jnp.minimum(n, 0), n), first(y), _chebyshev_step)
        value = jnp.where(closed, trigonometric(y, n), value)
        value = jnp.where(at_end, ends(n, y > 0).astype(x.dtype), value)
        return jnp.where(n < 0, 0, value).astype(x.dtype)

    return polynomial


def _t_ends(n, positive):
    return jnp.where(positive | _even(n), 1, -1)


def _u_ends(n, positive):
    return jnp.where(positive | _even(n), n + 1, -(n + 1))


def _v_ends(n, positive):
    return jnp.where(positive, 1, jnp.where(_even(n), n + n + 1, -(n + n + 1)))


def _w_ends(n, positive):
    return jnp.where(positive, n + n + 1, jnp.where(_even(n), 1, -1))


def _t_trigonometric(y, n):
    return jnp.cos(n * jnp.arccos(y))


def _u_trigonometric(y, n):
    angle = jnp.arccos(y)
    return jnp.where(jnp.sin(angle) != 0, jnp.sin((n + 1) * angle) / jnp.sin(angle),
                     (n + 1) * jnp.cos((n + 1) * angle) / y)


def _v_trigonometric(y, n):
    angle = jnp.arccos(y)
    return jnp.where(jnp.sin(angle / 2) != 1, jnp.cos((n + 0.5) * angle) / jnp.cos(angle / 2), _v_ends(n, False))


def _w_trigonometric(y, n):
    angle = jnp.arccos(y)
    return jnp.where(jnp.cos(angle / 2) != 1, jnp.sin((n + 0.5) * angle) / jnp.sin(angle / 2), _w_ends(n, y > 0))


def _shifted_w_trigonometric(y, n):
    """W's closed form as PyTorch's shifted one has it: ±1 by parity where the angle is 0."""
    angle = jnp.arccos(y)
    return jnp.where(jnp.cos(angle / 2) != 1, jnp.sin((n + 0.5) * angle) / jnp.sin(angle / 2), _t_ends(n, False))


def _hermite(first, step):
    """Hermite H or He: nan past degree 128 in float32 (512 in float64), as PyTorch's."""

    def polynomial(x, n):
        n = _degree(n)
        limit = 128 if x.dtype == jnp.float32 else 512
        value = _recurrence(x, jnp.minimum(n, limit + 1), first(x), step)
        return jnp.where(n > limit, jnp.nan, value).astype(x.dtype)

    return polynomial


def _laguerre_step(j, x, p, q):
    return (((j + j) + (1 - x)) * q - j * p) / (j + 1)


def _legendre_step(j, x, p, q):
    return ((j + j + 1) * x * q - j * p) / (j + 1)


def _laguerre(x, n):
    n = _degree(n)
    value = _recurrence(x, jnp.where(x == 0, jnp.minimum(n, 0), n), 1 - x, _laguerre_step)
    return jnp.where((n >= 0) & (x == 0), 1, value).astype(x.dtype)


def _legendre(x, n):
    n = _degree(n)
    value = _recurrence(x, jnp.where(jnp.abs(x) == 1, jnp.minimum(n, 0), n), x, _legendre_step)
    value = jnp.where(jnp.abs(x) == 1, _t_ends(n, x > 0).astype(x.dtype), value)
    return jnp.where(n < 0, 0, value).astype(x.dtype)


def _row(name: str, fn) -> Binary:
    # The results never require grad, so the grad names of a number operand are never shown.
    return Binary(f"special_{name}", fn, None, number_other=NOT_DIFFERENTIABLE, number_input=NOT_DIFFERENTIABLE,
                  to_float=True, input_name="x", other_name="n", differentiable=False)


_FAMILIES = {
    "t": (lambda y: y, _t_ends, _t_trigonometric, 6),
    "u": (lambda y: y + y, _u_ends, _u_trigonometric, 8),
    "v": (lambda y: y + y - 1, _v_ends, _v_trigonometric, 8),
    "w": (lambda y: y + y + 1, _w_ends, _w_trigonometric, 8),
}
# The shifted families switch to their closed forms from lower degrees (PyTorch's choice).
_SHIFTED_THRESHOLDS = {"t": 6, "u": 6, "v": 6, "w": 4}
_SHIFTED_TRIGONOMETRIC = {"w": _shifted_w_trigonometric}

ROWS = [
    *(_row(f"chebyshev_polynomial_{kind}", _chebyshev(first, ends, trig, threshold))
      for kind, (first, ends, trig, threshold) in _FAMILIES.items()),
    *(_row(f"shifted_chebyshev_polynomial_{kind}", _chebyshev(first, ends, _SHIFTED_TRIGONOMETRIC.get(kind, trig),
                                                               _SHIFTED_THRESHOLDS[kind], True))
      for kind, (first, ends, trig, _) in _FAMILIES.items()),
    _row("hermite_polynomial_h", _hermite(lambda x: x + x, lambda j, x, p, q: (x + x) * q - (j + j) * p)),
    _row("hermite_polynomial_he", _hermite(lambda x: x, lambda j, x, p, q: x * q - j * p)),
    _row("laguerre_polynomial_l", _laguerre),
    _row("legendre_polynomial_p", _legendre),
]

FUNCTIONS = {row.name.removeprefix("special_"): binary_function(row) for row in ROWS}
