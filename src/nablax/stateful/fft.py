"""`torch.fft`: the shifts of the zero-frequency term (`fftshift`, `ifftshift`); nablax has
no complex tensors, hence no transforms.

    >>> import nablax.stateful as torch
    >>> torch.fft.fftshift(torch.arange(5)).tolist()
    [3, 4, 0, 1, 2]
"""

from .ops.positions import fftshift as fftshift
from .ops.positions import ifftshift as ifftshift
