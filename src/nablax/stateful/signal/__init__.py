"""`torch.signal`: signal processing; so far its window functions (`signal.windows`)."""

from . import windows as windows
