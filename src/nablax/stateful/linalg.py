"""`torch.linalg`: the norms of vectors and matrices.

    >>> import nablax.stateful as torch
    >>> torch.linalg.norm(torch.tensor([3.0, 4.0]))
    tensor(5.)
"""

from .ops.linalg import matrix_norm as matrix_norm
from .ops.linalg import norm as norm
from .ops.linalg import vector_norm as vector_norm
