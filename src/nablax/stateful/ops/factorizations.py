"""Cholesky and LU factorizations and the solves that use them: `linalg.cholesky(_ex)`,
`cholesky`, `cholesky_inverse`, `cholesky_solve`, `linalg.lu`, `linalg.lu_factor(_ex)`,
`linalg.lu_solve`, `lu`, `lu_solve`, `lu_unpack`. Pivots are PyTorch's (LAPACK's 1-based
row swaps, int32); a matrix that is not positive-definite raises PyTorch's `LinAlgError`.

    >>> import nablax.stateful as torch
    >>> torch.linalg.cholesky(torch.tensor([[4.0, 2.0], [2.0, 2.0]]))
    tensor([[2., 0.],
            [1., 1.]])
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp

from ..engine import Op
from ..tensor import Tensor
from .matrices import (apply, broadcast_batches, check_floating, check_matrix, check_square, matrix_transpose, named, checked,
                       symmetric_from_triangle)
from .solves import lu_info, triangular


def _lower_cholesky(a):
    return jax.lax.linalg.cholesky(a, symmetrize_input=False)


def _cholesky_info(a, factor):
    """LAPACK's `info`: the order of the first leading minor that is not positive-definite
    (0 if none), found (only when some `factor` of `a` failed) by factoring each leading
    block of `a` completed by the identity."""
    n = a.shape[-1]
    if not n:  # empty matrices: nothing to fail
        return jnp.zeros(a.shape[:-2], jnp.int32)

    def order_of_failure(a):
        keep = jnp.arange(n)[:, None, None]
        inside = (jnp.arange(n)[None, :, None] <= keep) & (jnp.arange(n)[None, None, :] <= keep)
        blocks = jnp.where(inside, a[..., None, :, :], jnp.eye(n, dtype=a.dtype))
        failed = jnp.isnan(_lower_cholesky(blocks)).any((-2, -1))
        return jnp.where(failed.any(-1), jnp.argmax(failed, -1) + 1, 0).astype(jnp.int32)

    factored = jnp.isfinite(factor).all()
    return jax.lax.cond(factored, lambda a: jnp.zeros(a.shape[:-2], jnp.int32), order_of_failure,
                        jax.lax.stop_gradient(a))


def _cholesky(a, *, upper):
    """The factor of `a` read from its lower (`upper`: its upper) triangle, and `info`."""
    a = symmetric_from_triangle(a, lower=not upper)
    factor = _lower_cholesky(a)
    return (matrix_transpose(factor) if upper else factor), _cholesky_info(a, factor)


_CHOLESKY = Op("linalg_cholesky_ex", _cholesky)


def _cholesky_message(code: int) -> str:
    return ("linalg.cholesky: The factorization could not be completed because the input is not positive-definite "
            f"(the leading minor of order {code} is not positive-definite).")


def _factor(A: Tensor, upper: bool, check_errors: bool, grad_name: str):  # noqa: N803
    check_square("linalg.cholesky", A)
    result = named("linalg_cholesky_ex", "L info", apply(_CHOLESKY, (A,), grad_name, (("upper", bool(upper)),)))
    return checked(result, check_errors, _cholesky_message)


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False):  # noqa: N803
    """The Cholesky factor L (`A = L L^T`; U with `A = U^T U` when `upper`) and LAPACK's `info`."""
    return _factor(A, upper, check_errors, "LinalgCholeskyExBackward0")


def linalg_cholesky(A: Tensor, *, upper: bool = False) -> Tensor:  # noqa: N803
    """The Cholesky factor; `LinAlgError` for a matrix that is not positive-definite."""
    return cholesky_ex(A, upper=upper, check_errors=True).L


def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """`torch.cholesky`, deprecated by PyTorch for `linalg.cholesky`."""
    warnings.warn(_CHOLESKY_DEPRECATION, UserWarning, stacklevel=2)
    return _factor(input, upper, True, "CholeskyBackward0").L


_CHOLESKY_DEPRECATION = ("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a "
                         "future PyTorch release.\nL = torch.cholesky(A)\nshould be replaced with\nL = "
                         "torch.linalg.cholesky(A)\nand\nU = torch.cholesky(A, upper=True)\nshould be replaced with\n"
                         "U = torch.linalg.cholesky(A).mH\nThis transform will produce equivalent results for all valid "
                         "(symmetric positive definite) inputs.")


def _cholesky_solve(b, factor, *, upper):
    """`A^-1 b` for `A = L L^T` (`U^T U`), through two triangular solves; differentiated
    as PyTorch does, as a function of the whole `factor` (not only its triangle)."""
    lower = matrix_transpose(factor) if upper else factor
    fixed, fixed_b = jax.lax.stop_gradient(lower), jax.lax.stop_gradient(b)
    value = triangular(fixed, triangular(fixed, fixed_b, upper=False), upper=False, transpose=True)
    whole = jnp.linalg.solve(*broadcast_batches(lower @ matrix_transpose(lower), b))
    return value + (whole - jax.lax.stop_gradient(whole))  # the value of one, the derivative of the other


_CHOLESKY_SOLVE = Op("cholesky_solve", _cholesky_solve)
_CHOLESKY_INVERSE = Op("cholesky_inverse", lambda factor, *, upper: _cholesky_solve(
    jnp.broadcast_to(jnp.eye(factor.shape[-1], dtype=factor.dtype), factor.shape), factor, upper=upper))


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:  # noqa: N803
    """The solution of `A X = B` given `A`'s Cholesky factor."""
    check_floating("cholesky_solve", B, L)
    for tensor, label in ((B, "self"), (L, "A")):
        if tensor.ndim < 2:
            raise RuntimeError(f"b should have at least 2 dimensions, but has {B.ndim} dimensions instead"
                               if label == "self" else f"u should have at least 2 dimensions, but has {L.ndim} dimensions instead")
    return apply(_CHOLESKY_SOLVE, (B, L), "CholeskySolveBackward0", (("upper", bool(upper)),))


def cholesky_inverse(L: Tensor, upper: bool = False) -> Tensor:  # noqa: N803
    """The inverse of `A` given its Cholesky factor."""
    check_square("cholesky_inverse", L, "input")
    return apply(_CHOLESKY_INVERSE, (L,), "CholeskyInverseBackward0", (("upper", bool(upper)),))


# -- LU -------------------------------------------------------------------------------------------


def _lu_factor(a):
    """LAPACK's packed factors, its 1-based pivots (int32) and `info`."""
    lu, pivots, _ = jax.lax.linalg.lu(a)
    return lu, (pivots + 1).astype(jnp.int32), lu_info(jax.lax.stop_gradient(lu))


def _permutation(pivots, rows):
    """The permutation (`A[perm] = L U`) of LAPACK's 1-based row swaps."""
    return jax.lax.linalg.lu_pivots_to_permutation(pivots - 1, rows)


def _unpack(lu, pivots, *, unpack_data=True, unpack_pivots=True):
    """P, L, U with `A = P L U` from the packed factors (empty where not unpacked)."""
    m, n = lu.shape[-2:]
    k = min(m, n)
    batch = lu.shape[:-2]
    if unpack_data:
        lower = jnp.tril(lu[..., :, :k], -1) + jnp.eye(m, k, dtype=lu.dtype)
        upper = jnp.triu(lu[..., :k, :])
    else:
        lower = upper = jnp.zeros((0,), lu.dtype)
    if unpack_pivots:
        order = _permutation(pivots, m) if k else jnp.broadcast_to(jnp.arange(m), batch + (m,))
        p = matrix_transpose(jax.nn.one_hot(order, m, dtype=lu.dtype))
    else:
        p = jnp.zeros((0,), lu.dtype)
    return p, lower, upper


_LU_FACTOR = Op("linalg_lu_factor_ex", _lu_factor)
_LU = Op("linalg_lu", lambda a: _unpack(*_lu_factor(a)[:2]))
_LU_UNPACK = Op("lu_unpack", _unpack)


def _check_pivot(name: str, pivot: bool) -> None:
    if not pivot:
        raise RuntimeError(f"{name}: LU without pivoting is not implemented on the CPU")


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False):  # noqa: N803
    """The packed LU factors, the pivots and LAPACK's `info`."""
    check_matrix("torch.linalg.lu_factor_ex", A)
    check_floating("linalg.lu_factor", A)
    _check_pivot("linalg.lu_factor", pivot)
    result = named("linalg_lu_factor_ex", "LU pivots info", apply(_LU_FACTOR, (A,), "LinalgLuFactorExBackward0"))
    return checked(result, check_errors, _lu_message)


def _lu_message(code: int) -> str:
    return (f"torch.linalg.lu_factor: U[{code},{code}] is zero and using it on lu_solve would result in a division by "
            "zero. If you still want to perform the factorization, consider calling linalg.lu(A, pivot) or "
            "linalg.lu_factor_ex(A, pivot)")


def lu_factor(A: Tensor, *, pivot: bool = True):  # noqa: N803
    """The packed LU factors and the pivots; `LinAlgError` for a singular matrix."""
    LU, pivots, _ = lu_factor_ex(A, pivot=pivot, check_errors=True)  # noqa: N806
    return named("linalg_lu_factor", "LU pivots", (LU, pivots))


def linalg_lu(A: Tensor, *, pivot: bool = True):  # noqa: N803
    """P, L, U with `A = P L U`."""
    check_matrix("linalg.lu", A)
    check_floating("linalg.lu", A)
    _check_pivot("linalg.lu", pivot)
    return named("linalg_lu", "P L U", apply(_LU, (A,), "LinalgLuBackward0", constant=(0,)))


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False):  # noqa: N803
    """`torch.lu`: the packed factors and pivots (and `info`, with `get_infos`)."""
    result = lu_factor_ex(A, pivot=pivot)
    return tuple(result) if get_infos else tuple(result[:2])


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True, unpack_pivots: bool = True):  # noqa: N803
    """P, L, U from the packed factors and pivots of `lu_factor`."""
    if LU_pivots.dtype.name != "int32":
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 dtype. "
                           "Note: this function is intended to be used with the output produced by torch.linalg.lu_factor")
    return named("lu_unpack", "P L U", apply(_LU_UNPACK, (LU_data, LU_pivots), "LuUnpackBackward0",
                                             (("unpack_data", bool(unpack_data)), ("unpack_pivots", bool(unpack_pivots))),
                                             constant=(0,)))


def _lu_solve(lu, pivots, b, *, left, adjoint):
    """The solution of `A X = B` (`A^T X = B` where `adjoint`; `X A = B` unless `left`) for
    `A = P L U` given packed."""
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return matrix_transpose(_lu_solve(lu, pivots, matrix_transpose(b), left=True, adjoint=not adjoint))
    order = _permutation(pivots, lu.shape[-1])
    batch = jnp.broadcast_shapes(lu.shape[:-2], b.shape[:-2])
    lu = jnp.broadcast_to(lu, batch + lu.shape[-2:])
    b = jnp.broadcast_to(b, batch + b.shape[-2:])
    order = jnp.broadcast_to(order, batch + order.shape[-1:])
    if adjoint:  # A^T = U^T L^T P^T
        y = triangular(lu, triangular(lu, b, upper=True, transpose=True), upper=False, unitriangular=True, transpose=True)
        inverse = jnp.argsort(order, axis=-1)
        return jnp.take_along_axis(y, inverse[..., None], axis=-2)
    permuted = jnp.take_along_axis(b, order[..., None], axis=-2)
    return triangular(lu, triangular(lu, permuted, upper=False, unitriangular=True), upper=True)


_LU_SOLVE = Op("linalg_lu_solve", _lu_solve)


def linalg_lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False) -> Tensor:  # noqa: N803
    """The solution of `A X = B` given `A`'s packed LU factors and pivots."""
    check_floating("linalg.lu_solve", LU, B)
    check_square("linalg.lu_solve", LU, "LU")
    if B.ndim < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    return apply(_LU_SOLVE, (LU, pivots, B), "LinalgLuSolveBackward0", (("left", bool(left)), ("adjoint", bool(adjoint))))


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:  # noqa: N803
    return linalg_lu_solve(LU_data, LU_pivots, b)


FUNCTIONS = {function.__name__: function for function in (cholesky, cholesky_solve, cholesky_inverse, lu, lu_unpack,
                                                           lu_solve)}
METHODS = {name: function for name, function in FUNCTIONS.items() if name != "lu_unpack"}
LINALG = {"cholesky": linalg_cholesky, "cholesky_ex": cholesky_ex, "lu": linalg_lu, "lu_factor": lu_factor,
          "lu_factor_ex": lu_factor_ex, "lu_solve": linalg_lu_solve}
