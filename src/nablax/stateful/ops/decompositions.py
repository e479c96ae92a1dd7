"""QR, singular value and symmetric eigen decompositions and what is computed from them:
`linalg.qr`/`qr`, `linalg.svd`/`svd`, `svdvals`, `eigh`, `eigvalsh`, `pinv`/`pinverse`,
`matrix_rank`, `cond`, `lstsq`, `matrix_exp`. LAPACK computes the decompositions for JAX as
for PyTorch on the CPU, so their signs agree; JAX differentiates them.

    >>> import nablax.stateful as torch
    >>> torch.linalg.svdvals(torch.tensor([[3.0, 0.0], [0.0, 4.0]]))
    tensor([4., 3.])
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ..engine import Op
from ..tensor import Tensor
from . import linalg as norms
from . import shape, solves
from .matrices import (apply, check_floating, check_matrix, check_square, matrix_transpose, named,
                       symmetric_from_triangle)


def _qr(a, *, mode):
    if mode == "r":
        return jnp.zeros((0,), a.dtype), jnp.linalg.qr(a, mode="r")
    return tuple(jnp.linalg.qr(a, mode=mode))


_QR = Op("linalg_qr", _qr)


def linalg_qr(A: Tensor, mode: str = "reduced"):  # noqa: N803
    """Q and R with `A = Q R` ('reduced', 'complete', or only R for 'r')."""
    check_matrix("linalg.qr", A)
    check_floating("linalg.qr", A)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or 'complete'")
    return named("linalg_qr", "Q R", apply(_QR, (A,), "LinalgQrBackward0", (("mode", mode),)))


def qr(input: Tensor, some: bool = True):
    return named("qr", "Q R", tuple(linalg_qr(input, "reduced" if some else "complete")))


def _svd(a, *, full_matrices):
    """U, S, Vh. Full matrices are differentiated as PyTorch does: through their first
    min(m, n) columns (rows of Vh) only."""
    u, s, vh = jnp.linalg.svd(a, full_matrices=False)
    if not full_matrices or a.shape[-1] == a.shape[-2]:
        return u, s, vh
    full_u, _, full_vh = jnp.linalg.svd(jax.lax.stop_gradient(a), full_matrices=True)
    k = s.shape[-1]
    return (jnp.concatenate([u, full_u[..., k:]], -1), s, jnp.concatenate([vh, full_vh[..., k:, :]], -2))


_SVD = Op("linalg_svd", _svd)
_SVDVALS = Op("linalg_svdvals", lambda a: jnp.linalg.svd(a, compute_uv=False))


def linalg_svd(A: Tensor, full_matrices: bool = True, *, driver=None):  # noqa: N803
    """U, S, Vh with `A = U diag(S) Vh`, singular values in descending order."""
    check_matrix("linalg.svd", A)
    check_floating("linalg.svd", A)
    return named("linalg_svd", "U S Vh", apply(_SVD, (A,), "LinalgSvdBackward0", (("full_matrices", bool(full_matrices)),)))


def svdvals(A: Tensor, *, driver=None) -> Tensor:  # noqa: N803
    check_matrix("linalg.svdvals", A)
    check_floating("linalg.svdvals", A)
    return apply(_SVDVALS, (A,), "LinalgSvdBackward0")


_ZEROS = Op("zeros_of", lambda a, *, shape: jnp.zeros(shape, a.dtype))


def svd(input: Tensor, some: bool = True, compute_uv: bool = True):
    """`torch.svd`: U, S and V (not Vh); without `compute_uv`, U and V are zeros of their
    full shapes."""
    if not compute_uv:
        m, n = input.shape[-2:]
        zeros = [apply(_ZEROS, (input,), None, (("shape", input.shape[:-2] + (k, k)),)) for k in (m, n)]
        return named("svd", "U S V", (zeros[0], svdvals(input), zeros[1]))
    U, S, Vh = linalg_svd(input, full_matrices=not some)  # noqa: N806
    return named("svd", "U S V", (U, S, matrix_transposed(Vh)))


def _eigh(a, *, lower):
    # LAPACK's eigenvectors' signs depend on the triangle it reads, so it reads PyTorch's.
    vectors, values = jax.lax.linalg.eigh(symmetric_from_triangle(a, lower), lower=lower, symmetrize_input=False)
    return values, vectors


_EIGH = Op("linalg_eigh", _eigh)
_EIGVALSH = Op("linalg_eigvalsh", lambda a, *, lower: _eigh(a, lower=lower)[0])


def _check_uplo(UPLO: str) -> bool:  # noqa: N803
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO == "L"


def eigh(A: Tensor, UPLO: str = "L"):  # noqa: N803
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices, read from the lower
    (UPLO='U': upper) triangle."""
    check_square("linalg.eigh", A)
    return named("linalg_eigh", "eigenvalues eigenvectors",
                 apply(_EIGH, (A,), "LinalgEighBackward0", (("lower", _check_uplo(UPLO)),)))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:  # noqa: N803
    check_square("linalg.eigvalsh", A)
    return apply(_EIGVALSH, (A,), "LinalgEighBackward0", (("lower", _check_uplo(UPLO)),))


# -- from the decompositions ----------------------------------------------------------------------


def _symmetric_eigenvalues(a):
    """The eigenvalues of the symmetric matrix of `a`'s lower triangle."""
    return jax.lax.linalg.eigh(symmetric_from_triangle(a), symmetrize_input=False)[1]


def _spectrum(a, hermitian: bool):
    """The singular values (absolute eigenvalues, `hermitian`)."""
    return jnp.abs(_symmetric_eigenvalues(a)) if hermitian else jnp.linalg.svd(a, compute_uv=False)


def _cutoff(values, a, atol, rtol):
    """PyTorch's bound at or below which the singular `values` of `a` count as zero:
    max(atol, rtol * largest), rtol by default eps * max(m, n), or 0 where atol > 0."""
    if rtol is None:
        default = jnp.finfo(a.dtype).eps * max(a.shape[-2:])
        rtol = default if atol is None else jnp.where(jnp.asarray(atol) > 0, 0.0, default)
    largest = jnp.max(values, -1, initial=0.0)
    return jnp.maximum(0.0 if atol is None else atol, rtol * largest)[..., None]


def _with_tolerances(fn):
    """`fn(a, atol, rtol, **options)` as an op function whose tolerances are static
    numbers, or tensors passed after `a` (marked "tensor")."""

    def call(a, *tensors, atol, rtol, **options):
        given = iter(tensors)
        atol, rtol = (next(given) if value == "tensor" else value for value in (atol, rtol))
        return fn(a, atol, rtol, **options)

    return call


def _tolerance_arguments(A: Tensor, atol, rtol) -> tuple:  # noqa: N803
    """The operands and static arguments of an op `_with_tolerances`."""
    tensors = tuple(value for value in (atol, rtol) if isinstance(value, Tensor))
    static = tuple((name, "tensor" if isinstance(value, Tensor) else value) for name, value in (("atol", atol), ("rtol", rtol)))
    return (A, *tensors), static


@functools.partial(jax.custom_jvp, nondiff_argnums=(3,))
def _pinv(a, atol, rtol, hermitian):
    if hermitian:
        vectors, values = jax.lax.linalg.eigh(symmetric_from_triangle(a), symmetrize_input=False)
        inverse = jnp.where(jnp.abs(values) > _cutoff(jnp.abs(values), a, atol, rtol), 1 / values, 0)
        return (vectors * inverse[..., None, :]) @ matrix_transpose(vectors)
    u, s, vh = jnp.linalg.svd(a, full_matrices=False)
    inverse = jnp.where(s > _cutoff(s, a, atol, rtol), 1 / s, 0)
    return matrix_transpose(vh) @ (inverse[..., :, None] * matrix_transpose(u))


@_pinv.defjvp
def _pinv_jvp(hermitian, primals, tangents):
    """The derivative of the pseudo-inverse where its rank does not change (PyTorch's)."""
    a, atol, rtol = primals
    p = _pinv(a, atol, rtol, hermitian)
    da = tangents[0]
    t = matrix_transpose
    m, n = a.shape[-2:]
    dp = (-p @ da @ p + p @ t(p) @ t(da) @ (jnp.eye(m, dtype=a.dtype) - a @ p)
          + (jnp.eye(n, dtype=a.dtype) - p @ a) @ t(da) @ t(p) @ p)
    return p, dp


def _pinv_fn(a, atol=None, rtol=None, *, hermitian):
    if not a.size:
        return jnp.zeros(a.shape[:-2] + a.shape[:-3:-1], a.dtype)
    return _pinv(a, atol, rtol, hermitian)


_PINV = Op("linalg_pinv", _with_tolerances(_pinv_fn))


def pinv(A: Tensor, *args, atol=None, rtol=None, hermitian: bool = False, rcond=None) -> Tensor:  # noqa: N803
    """The pseudo-inverse, from the singular values above max(atol, rtol * largest) (the
    older positional form: `pinv(A, rcond, hermitian)`)."""
    if args:
        rtol, *rest = args
        hermitian = rest[0] if rest else hermitian
    rtol = rcond if rcond is not None else rtol
    check_matrix("linalg.pinv", A)
    check_floating("linalg.pinv", A)
    operands, static = _tolerance_arguments(A, atol, rtol)
    return apply(_PINV, operands, "LinalgPinvBackward0", (*static, ("hermitian", bool(hermitian))))


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    return pinv(input, rtol=rcond)


def _rank(a, atol=None, rtol=None, *, hermitian):
    if not a.size:
        return jnp.zeros(a.shape[:-2], jnp.int64)
    values = _spectrum(a, hermitian)
    return jnp.sum(values > _cutoff(values, a, atol, rtol), -1).astype(jnp.int64)


_MATRIX_RANK = Op("linalg_matrix_rank", _with_tolerances(_rank))


def matrix_rank(A: Tensor, tol=None, hermitian: bool = False, *, atol=None, rtol=None) -> Tensor:  # noqa: N803
    """The number of singular values above max(atol, rtol * largest) (`tol` is `atol`)."""
    check_matrix("linalg.matrix_rank", A)
    check_floating("linalg.matrix_rank", A)
    atol = tol if tol is not None else atol
    operands, static = _tolerance_arguments(A, atol, rtol)
    return apply(_MATRIX_RANK, operands, None, (*static, ("hermitian", bool(hermitian))))


_SINGULAR_RATIO = Op("linalg_cond", lambda a, *, largest_first: (lambda s: s[..., 0] / s[..., -1] if largest_first
                                                                 else s[..., -1] / s[..., 0])(jnp.linalg.svd(a, compute_uv=False)))


def cond(A: Tensor, p=None) -> Tensor:  # noqa: N803
    """The condition number in the norm `p`: the ratio of the extreme singular values for
    None and ±2, else `norm(A, p) * norm(inv(A), p)`."""
    check_matrix("linalg.cond", A)
    check_floating("linalg.cond", A)
    if p is None or p in (2, -2):
        return apply(_SINGULAR_RATIO, (A,), "SqueezeBackward1", (("largest_first", p != -2),))
    check_square("linalg.cond", A)
    return norms.matrix_norm(A, p) * norms.matrix_norm(solves.inv(A), p)


_MATRIX_EXP = Op("matrix_exp", lambda a: jax.scipy.linalg.expm(a.astype(jnp.float64)).astype(a.dtype))


def matrix_exp(A: Tensor) -> Tensor:  # noqa: N803
    """The exponential of each square matrix of `A`."""
    check_square("linalg.matrix_exp", A)
    return apply(_MATRIX_EXP, (A,), "LinalgMatrixExpBackward0")


def _lstsq(a, b, *, rcond, driver, vector):
    """PyTorch's four results: the solution (via the pseudo-inverse), the squared residuals
    (by the drivers that give them, for tall full-rank matrices), the rank (gelsy, gelsd,
    gelss) and the singular values (gelsd, gelss)."""
    b = b[..., None] if vector else b
    m, n = a.shape[-2:]
    solution = _pinv_fn(a, None, rcond, hermitian=False) @ b
    rank = _rank(a, None, rcond, hermitian=False)
    empty = jnp.zeros((0,), a.dtype)
    residuals = empty
    if driver != "gelsy" and m > n and a.size:
        residuals = jnp.sum((a @ solution - b) ** 2, -2)
        residuals = jnp.where(jnp.all(rank == n), residuals, jnp.zeros_like(residuals))
    singular = jnp.linalg.svd(a, compute_uv=False) if driver in ("gelsd", "gelss") else empty
    rank = jnp.zeros((0,), jnp.int64) if driver == "gels" else rank
    return (solution[..., 0] if vector else solution), residuals, rank, singular


_LSTSQ = Op("linalg_lstsq", _lstsq)


def lstsq(A: Tensor, B: Tensor, rcond=None, *, driver=None):  # noqa: N803
    """The least-squares solution of `A X = B`, with PyTorch's residuals, rank and singular
    values per driver (default 'gelsy')."""
    check_floating("linalg.lstsq", A, B)
    check_matrix("torch.linalg.lstsq", A)
    driver = "gelsy" if driver is None else driver
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    vector = B.ndim == A.ndim - 1
    return named("linalg_lstsq", "solution residuals rank singular_values",
                 apply(_LSTSQ, (A, B), "LinalgLstsqBackward0", (("rcond", rcond), ("driver", driver), ("vector", vector)),
                       constant=(3,)))


def matrix_transposed(x: Tensor) -> Tensor:
    """`x.mT`: the view with the last two dims swapped."""
    if x.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {x.ndim}-D tensor.")
    return shape.transpose(x, -2, -1)


def matrix_adjoint(x: Tensor) -> Tensor:
    """`x.mH`: the conjugate transpose; of real matrices, `x.mT`."""
    if x.dtype.is_complex:
        raise NotImplementedError("tensor.mH of complex tensors: nablax.stateful has no conjugation")
    return matrix_transposed(x)


FUNCTIONS = {"qr": qr, "svd": svd, "pinverse": pinverse, "matrix_exp": matrix_exp}
METHODS = {**FUNCTIONS, "mT": property(matrix_transposed), "mH": property(matrix_adjoint)}
LINALG = {"qr": linalg_qr, "svd": linalg_svd, "svdvals": svdvals, "eigh": eigh, "eigvalsh": eigvalsh, "pinv": pinv,
          "matrix_rank": matrix_rank, "cond": cond, "matrix_exp": matrix_exp, "lstsq": lstsq}
