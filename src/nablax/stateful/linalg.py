"""`torch.linalg`: norms, determinants, inverses, solves, factorizations (Cholesky, LU, QR,
SVD, symmetric eigendecompositions) and the products of vectors and matrices, with `out=`.

    >>> import nablax.stateful as torch
    >>> torch.linalg.norm(torch.tensor([3.0, 4.0]))
    tensor(5.)
    >>> torch.linalg.det(torch.tensor([[2.0, 1.0], [1.0, 2.0]]))
    tensor(3.)
"""

from .ops import decompositions as _decompositions
from .ops import factorizations as _factorizations
from .ops import linalg as _linalg
from .ops import products as _products
from .ops import solves as _solves
from .ops.matrices import LinAlgError as LinAlgError
from .ops.outputs import with_out as _with_out

_FUNCTIONS = {**_linalg.LINALG, **_solves.LINALG, **_factorizations.LINALG, **_decompositions.LINALG,
              **_products.LINALG}

norm = _with_out(_FUNCTIONS["norm"])
vector_norm = _with_out(_FUNCTIONS["vector_norm"])
matrix_norm = _with_out(_FUNCTIONS["matrix_norm"])
det = _with_out(_FUNCTIONS["det"])
slogdet = _with_out(_FUNCTIONS["slogdet"])
inv = _with_out(_FUNCTIONS["inv"])
inv_ex = _with_out(_FUNCTIONS["inv_ex"])
solve = _with_out(_FUNCTIONS["solve"])
solve_ex = _with_out(_FUNCTIONS["solve_ex"])
solve_triangular = _with_out(_FUNCTIONS["solve_triangular"])
matrix_power = _with_out(_FUNCTIONS["matrix_power"])
cholesky = _with_out(_FUNCTIONS["cholesky"])
cholesky_ex = _with_out(_FUNCTIONS["cholesky_ex"])
lu = _with_out(_FUNCTIONS["lu"])
lu_factor = _with_out(_FUNCTIONS["lu_factor"])
lu_factor_ex = _with_out(_FUNCTIONS["lu_factor_ex"])
lu_solve = _with_out(_FUNCTIONS["lu_solve"])
qr = _with_out(_FUNCTIONS["qr"])
svd = _with_out(_FUNCTIONS["svd"])
svdvals = _with_out(_FUNCTIONS["svdvals"])
eigh = _with_out(_FUNCTIONS["eigh"])
eigvalsh = _with_out(_FUNCTIONS["eigvalsh"])
pinv = _with_out(_FUNCTIONS["pinv"])
matrix_rank = _with_out(_FUNCTIONS["matrix_rank"])
cond = _with_out(_FUNCTIONS["cond"])
matrix_exp = _with_out(_FUNCTIONS["matrix_exp"])
lstsq = _with_out(_FUNCTIONS["lstsq"])
tensorinv = _with_out(_FUNCTIONS["tensorinv"])
tensorsolve = _with_out(_FUNCTIONS["tensorsolve"])
multi_dot = _with_out(_FUNCTIONS["multi_dot"])
cross = _with_out(_FUNCTIONS["cross"])
vecdot = _with_out(_FUNCTIONS["vecdot"])
diagonal = _FUNCTIONS["diagonal"]
vander = _FUNCTIONS["vander"]
