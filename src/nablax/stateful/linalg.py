"""`torch.linalg`: the norms of vectors and matrices (with `out=`).

    >>> import nablax.stateful as torch
    >>> torch.linalg.norm(torch.tensor([3.0, 4.0]))
    tensor(5.)
"""

from .ops import linalg as _linalg
from .ops.outputs import with_out as _with_out

norm = _with_out(_linalg.norm)
vector_norm = _with_out(_linalg.vector_norm)
matrix_norm = _with_out(_linalg.matrix_norm)
