"""The special functions of `torch.special` that JAX has (`jax.scipy.special`, with
PyTorch's derivatives where JAX's differ at the edges of a domain) and the Hurwitz zeta
function (zeta.py), as rows of the elementwise tables (`Unary` of elementwise.py, `Binary`
of pointwise.py); and the ones of `torch.*` with an integer argument besides the tensor,
`polygamma(n, x)` and `mvlgamma(x, p)`, and `frexp(x)`, of two results.

    >>> import nablax.stateful as torch
    >>> torch.special.ndtr(torch.tensor([0.0]))
    tensor([0.5000])
    >>> torch.polygamma(1, torch.tensor([1.0]))
    tensor([1.6449])
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import jax.scipy.special as jss
import numpy as np

from .. import dtypes as dt
from ..engine import Op
from ..recording import output, record, record_expr
from ..tensor import Tensor
from .common import cast
from .elementwise import Unary, digamma, unary_function
from .pointwise import BOOL, INTEGER, Binary, binary_function
from . import zeta


@jax.custom_jvp
def _entr(x):
    """-x log x; PyTorch's is -inf for negative x (JAX's too), nan for nan and +0 at 0
    (JAX's -0)."""
    return jnp.where(jnp.isnan(x), x, jnp.where(x == 0, jnp.zeros_like(x), jss.entr(x)))


# PyTorch's derivative, -(1 + log x), also where JAX's is zero (x <= 0).
_entr.defjvps(lambda tangent, _, x: -(1 + jnp.log(x)) * tangent)


def _ndtr(x):
    """The standard normal distribution function, as PyTorch writes it: (1 + erf(x/√2)) / 2."""
    return (1 + jss.erf(x * np.sqrt(0.5).astype(x.dtype))) * jnp.asarray(0.5, x.dtype)


@jax.custom_jvp
def _xlog1py(x, y):
    """x log(1 + y), 0 where x is 0 (unless y is nan), as PyTorch's."""
    return jnp.where((x == 0) & ~jnp.isnan(y), jnp.zeros_like(x * y), x * jnp.log1p(y))


# PyTorch's derivatives: log(1 + y) for x (also at x = 0, unless y <= -1), x / (1 + y) for y.
_xlog1py.defjvps(lambda tangent, _, x, y: jnp.where((x == 0) & (y <= -1), 0, jnp.log1p(y)) * tangent,
                 lambda tangent, _, x, y: x / (y + 1) * tangent)


def _igamma(a, x):
    return jss.gammainc(jax.lax.stop_gradient(a), x)


def _igammac(a, x):
    return jss.gammaincc(jax.lax.stop_gradient(a), x)


@jax.custom_jvp
def _ndtri(p):
    return jss.ndtri(p)


# PyTorch's derivative, sqrt(2 pi) exp(ndtri(p)² / 2): infinite at 0 and 1 (JAX's is 0 there).
_ndtri.defjvps(lambda tangent, result, p: np.sqrt(2 * np.pi).astype(p.dtype) * jnp.exp(result * result / 2) * tangent)


UNARY = [
    Unary("special_ndtr", _ndtr, "MulBackward1", to_float=True),
    Unary("special_ndtri", _ndtri, "SpecialNdtriBackward0", to_float=True),
    Unary("special_log_ndtr", jss.log_ndtr, "SpecialLogNdtrBackward0", to_float=True),
    Unary("special_erfcx", jss.erfcx, "SpecialErfcxBackward0", to_float=True),
    Unary("special_entr", _entr, "SpecialEntrBackward0", to_float=True),
    Unary("special_i0e", jss.i0e, "SpecialI0EBackward0", to_float=True),
    Unary("special_i1", jss.i1, "SpecialI1Backward0", to_float=True),
    Unary("special_i1e", jss.i1e, "SpecialI1EBackward0", to_float=True),
]

BINARY = [
    Binary("special_xlog1py", _xlog1py, "SpecialXlog1PyBackward0", number_other="SpecialXlog1PyBackward2",
           number_input="SpecialXlog1PyBackward1", to_float=True),
    Binary("special_zeta", zeta.zeta, "SpecialZetaBackward0", number_other="SpecialZetaBackward2",
           number_input="SpecialZetaBackward1", to_float=True),
    Binary("igamma", _igamma, "IgammaBackward0", kernel="igamma_cpu", refuses=(BOOL, INTEGER)),
    Binary("igammac", _igammac, "IgammacBackward0", kernel="igammac_cpu", refuses=(BOOL, INTEGER)),
]

FUNCTIONS = {row.name: unary_function(row) for row in UNARY}
FUNCTIONS.update({row.name: binary_function(row) for row in BINARY})


def _polygamma(x, *, n, dtype):
    x = cast(x, dtype)
    if n == 0:
        return digamma(x)
    return zeta.polygamma(n, x)


_POLYGAMMA = Op("polygamma", _polygamma)


def polygamma(n: int, input: Tensor) -> Tensor:
    """The `n`-th derivative of the digamma function (`n = 0`: digamma itself)."""
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    result = input.dtype if input.dtype.is_floating_point else dt.get_default_dtype()
    return record(_POLYGAMMA, (input,), input.shape, result.numpy, "PolygammaBackward0",
                  (("n", int(n)), ("dtype", result.numpy)))


def _mvlgamma(x, *, p, dtype):
    x = cast(x, dtype)
    halves = jnp.arange(p, dtype=dtype) / 2
    constant = jnp.asarray(p * (p - 1) / 4 * math.log(math.pi), dtype)
    return jss.gammaln(x[..., None] - halves).sum(-1) + constant


_MVLGAMMA = Op("mvlgamma", _mvlgamma)


def mvlgamma(input: Tensor, p: int) -> Tensor:
    """The multivariate log-gamma function of dimension `p`: Σ_i lgamma(x - i/2) plus
    p (p - 1) / 4 log(pi) (PyTorch checks no domain: lgamma's values outside it)."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    result = input.dtype if input.dtype.is_floating_point else dt.get_default_dtype()
    return record(_MVLGAMMA, (input,), input.shape, result.numpy, "MvlgammaBackward0",
                  (("p", int(p)), ("dtype", result.numpy)))


def _frexp(x):
    """(mantissa, exponent) with x = mantissa * 2**exponent; the mantissa's derivative is
    2**-exponent, PyTorch's."""
    _, exponent = jnp.frexp(jax.lax.stop_gradient(x))
    mantissa = jnp.where(jnp.isfinite(x) & (x != 0), x * jnp.exp2(-exponent.astype(x.dtype)), x)
    return mantissa, exponent.astype(jnp.int32)


_FREXP = Op("frexp", _frexp)


class _MantissaExponent(tuple):
    """`torch.return_types.frexp(mantissa=..., exponent=...)`."""

    __slots__ = ()
    _name = "frexp"
    mantissa = property(lambda self: self[0])
    exponent = property(lambda self: self[1])

    def __repr__(self) -> str:
        return f"torch.return_types.frexp(\nmantissa={self[0]!r},\nexponent={self[1]!r})"


_MantissaExponent.__name__ = _MantissaExponent.__qualname__ = "frexp"
_MantissaExponent.__module__ = "torch.return_types"


def frexp(input: Tensor):
    """The mantissas in [0.5, 1) and int32 exponents of the elements."""
    if not input.dtype.is_floating_point:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    node, device = record_expr(_FREXP, (input,), (input.shape, input.shape), None, "FrexpBackward0")
    mantissa = output(node, 0, input.shape, input.dtype.numpy, node.requires_grad, "FrexpBackward0")
    exponent = output(node, 1, input.shape, np.dtype(np.int32), False, None)
    return _MantissaExponent((Tensor._from_expr(mantissa, device), Tensor._from_expr(exponent, device)))


FUNCTIONS.update(polygamma=polygamma, mvlgamma=mvlgamma, frexp=frexp)

