"""Determinants, inverses and linear solves: `det`, `slogdet`, `logdet`, `inv(_ex)`,
`solve(_ex)`, `solve_triangular`, `triangular_solve`, `matrix_power`, with PyTorch's checks
and its `LinAlgError` for a singular matrix. JAX differentiates them.

    >>> import nablax.stateful as torch
    >>> torch.linalg.solve(torch.tensor([[2.0, 0.0], [0.0, 4.0]]), torch.tensor([2.0, 2.0]))
    tensor([1.0000, 0.5000])
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from ..engine import Op
from ..tensor import Tensor
from .matrices import (apply, batch_shape, broadcast_batches, check_floating, check_same_dtype, check_square, checked,
                       named)


def lu_info(lu):
    """LAPACK's `info` of an LU factorization: the (1-based) first zero on U's diagonal, else 0."""
    zero = jnp.diagonal(lu, axis1=-2, axis2=-1) == 0
    if not zero.shape[-1]:  # empty matrices: nothing to fail
        return jnp.zeros(zero.shape[:-1], jnp.int32)
    return jnp.where(jnp.any(zero, -1), jnp.argmax(zero, -1) + 1, 0).astype(jnp.int32)


def _singularity(a):
    return lu_info(jax.lax.stop_gradient(jax.lax.linalg.lu(a)[0]))


def _det(a):
    if not a.shape[-1]:  # the determinant of an empty matrix is 1 (JAX's derivative fails on it)
        return jnp.ones(a.shape[:-2], a.dtype)
    return jnp.linalg.det(a)


_DET = Op("linalg_det", _det)
_SLOGDET = Op("linalg_slogdet", lambda a: tuple(jnp.linalg.slogdet(a)))


def _logdet(a):
    sign, logabsdet = jnp.linalg.slogdet(a)
    return jnp.where(sign < 0, jnp.nan, logabsdet)


_LOGDET = Op("logdet", _logdet)


def det(A: Tensor) -> Tensor:  # noqa: N803
    """The determinant of each matrix of `A`."""
    check_square("linalg.det", A)
    return apply(_DET, (A,), "LinalgDetBackward0")


def slogdet(A: Tensor):  # noqa: N803
    """The sign and the log of the absolute value of the determinant."""
    check_square("linalg.slogdet", A)
    return named("linalg_slogdet", "sign logabsdet", apply(_SLOGDET, (A,), "LinalgSlogdetBackward0"))


def logdet(input: Tensor) -> Tensor:
    """The log of the determinant: nan where it is negative, -inf where zero."""
    check_square("logdet", input)
    return apply(_LOGDET, (input,), "WhereBackward0")


_INV_EX = Op("linalg_inv_ex", lambda a: (jnp.linalg.inv(a), _singularity(a)))


def inv_ex(A: Tensor, *, check_errors: bool = False):  # noqa: N803
    """The inverse and LAPACK's `info` (nonzero for a singular matrix)."""
    check_square("linalg.inv", A)
    return checked(named("linalg_inv_ex", "inverse info", apply(_INV_EX, (A,), "LinalgInvExBackward0")), check_errors,
                   _inv_message)


def _inv_message(code: int) -> str:
    return (f"linalg.inv: The diagonal element {code} is zero, the inversion could not be completed because the "
            "input matrix is singular.")


def inv(A: Tensor) -> Tensor:  # noqa: N803
    """The inverse of each matrix of `A`; `LinAlgError` for a singular one."""
    return inv_ex(A, check_errors=True).inverse


def _is_vector_rhs(A: Tensor, B: Tensor) -> bool:  # noqa: N803
    """PyTorch's rule: `B` is a (batch of) vector(s) when 1-D or of `A`'s batch shape plus n."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def _solve(a, b, *, left, vector):
    if vector:
        b = b[..., None]
    if not left:  # X A = B  <=>  A^T X^T = B^T
        a, b = jnp.swapaxes(a, -1, -2), jnp.swapaxes(b, -1, -2)
    a, b = broadcast_batches(a, b)
    x = jnp.linalg.solve(a, b)
    x = x if left else jnp.swapaxes(x, -1, -2)
    return (x[..., 0] if vector else x), _singularity(a)


_SOLVE_EX = Op("linalg_solve_ex", _solve)


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False):  # noqa: N803
    """The solution X of `A X = B` (`X A = B` unless `left`) and LAPACK's `info`."""
    check_square("linalg.solve", A)
    check_same_dtype("linalg.solve", A, B)
    vector = _is_vector_rhs(A, B)
    rows = B.shape[-1] if vector else B.shape[-2 if left else -1]
    if B.ndim < (1 if vector else 2) or rows != A.shape[-1]:
        sizes = f"{B.shape[-1]}x1" if vector else f"{B.shape[-2]}x{B.shape[-1]}"
        raise RuntimeError("linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{A.shape[-1]} and {sizes})")
    batch_shape(A.shape, B.shape[:-1] + (1, 1) if vector else B.shape)  # PyTorch's broadcast error, if any
    result = named("linalg_solve_ex", "result info",
                   apply(_SOLVE_EX, (A, B), "LinalgSolveExBackward0", (("left", bool(left)), ("vector", vector))))
    return checked(result, check_errors, lambda code: "torch.linalg.solve: The solver failed because the input matrix is singular.")


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:  # noqa: N803
    """The solution X of `A X = B` (`X A = B` unless `left`); `LinAlgError` for singular `A`."""
    return solve_ex(A, B, left=left, check_errors=True).result


def triangular(a, b, *, upper, left=True, unitriangular=False, transpose=False):
    """The solution of the triangular system `A X = B` (`X A = B` unless `left`; `A^T`
    where `transpose`), reading only `A`'s triangle."""
    a, b = broadcast_batches(a, b)
    return jax.lax.linalg.triangular_solve(a, b, left_side=left, lower=not upper, transpose_a=transpose,
                                           unit_diagonal=unitriangular)


_SOLVE_TRIANGULAR = Op("linalg_solve_triangular", triangular)


def _check_triangular(name: str, A: Tensor, B: Tensor, left: bool = True) -> None:  # noqa: N803
    check_floating(name, A, B)
    for tensor, label in ((B, "B"), (A, "A")):
        if tensor.ndim < 2:
            raise RuntimeError(f"{name}: The input tensor {label} must have at least 2 dimensions.")
    check_square(name, A)
    if A.shape[-1] != B.shape[-2 if left else -1]:
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{A.shape[-1]} and {B.shape[-2]}x{B.shape[-1]})")


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False) -> Tensor:  # noqa: N803
    """The solution of a triangular system: `A X = B` (`X A = B` unless `left`)."""
    _check_triangular("linalg.solve_triangular", A, B, left)
    return apply(_SOLVE_TRIANGULAR, (A, B), "LinalgSolveTriangularBackward0",
                 (("upper", bool(upper)), ("left", bool(left)), ("unitriangular", bool(unitriangular))))


_TRIANGULAR_SOLVE = Op("triangular_solve", lambda b, a, **options: (triangular(a, b, **options),
                                                                     broadcast_batches(a, b)[0]))


def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,  # noqa: N803
                     unitriangular: bool = False):
    """The older form of `linalg.solve_triangular`: `(solution, cloned_coefficient)`."""
    _check_triangular("triangular_solve", A, b)
    return named("triangular_solve", "solution cloned_coefficient",
                 apply(_TRIANGULAR_SOLVE, (b, A), "TriangularSolveBackward0",
                       (("upper", bool(upper)), ("transpose", bool(transpose)), ("unitriangular", bool(unitriangular)))))


_MATRIX_POWER = Op("linalg_matrix_power", lambda a, *, n: jnp.linalg.matrix_power(a, n))


def matrix_power(A: Tensor, n: int) -> Tensor:  # noqa: N803
    """`A` multiplied by itself `n` times (the inverse's power for a negative `n`)."""
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{A.shape[-2] if A.ndim > 1 else A.shape[-1]} by {A.shape[-1]} matrices")
    if n < 0:
        A = inv(A)  # noqa: N806
    grad_name = {0: "CopyBackwards", 1: "CloneBackward0"}.get(abs(int(n)), "MmBackward0")
    return apply(_MATRIX_POWER, (A,), grad_name, (("n", abs(int(n))),))


def tensorinv(A: Tensor, ind: int = 2) -> Tensor:  # noqa: N803
    """The inverse of `A` as a map from its last dims to its first `ind`: `tensordot(tensorinv(A), A, ind)`
    is the identity."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, columns = math.prod(A.shape[:ind]), math.prod(A.shape[ind:])
    if rows != columns:
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[ind:]) == prod(self.shape[:ind]), "
                           f"but got {columns} != {rows}")
    return inv(A.reshape(rows, columns)).reshape(*A.shape[ind:], *A.shape[:ind])


def tensorsolve(A: Tensor, B: Tensor, dims=None) -> Tensor:  # noqa: N803
    """The X with `tensordot(A, X, X.ndim) = B` (the dims `dims` of `A` moved last first)."""
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        A = A.permute(*[d for d in range(A.ndim) if d not in dims], *dims)  # noqa: N806
    result_shape = A.shape[B.ndim:]
    if math.prod(A.shape[:B.ndim]) != B.numel():
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {math.prod(result_shape)} != {math.prod(A.shape[:B.ndim])}")
    return solve(A.reshape(B.numel(), -1), B.reshape(-1)).reshape(*result_shape)


FUNCTIONS = {"logdet": logdet, "triangular_solve": triangular_solve}
METHODS = {"logdet": logdet, "triangular_solve": triangular_solve}
LINALG = {function.__name__: function for function in (det, slogdet, inv, inv_ex, solve, solve_ex, solve_triangular,
                                                       matrix_power, tensorinv, tensorsolve)}
