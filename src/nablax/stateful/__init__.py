"""`nablax.stateful`: PyTorch's tensor workflow (`Tensor`, `requires_grad`, `.backward()`,
`.grad`, `no_grad`, `nn`, `optim`) over nablax's JAX engine.

    import nablax.stateful as torch
    import nablax.stateful.nn as nn

Code written for PyTorch runs unchanged and prints what PyTorch prints. Importing this
module configures JAX for the whole process: `jax_enable_x64`, because PyTorch's int64 and
float64 tensors need it (nablax's functional face passes explicit dtypes and stays
float32), and JAX's persistent compilation cache in `~/.cache/nablax/jax`, so that a
script's second run does not compile again (`NABLAX_COMPILATION_CACHE=0` turns it off; see
`compilation.use_persistent_cache`).
"""

import jax as _jax

_jax.config.update("jax_enable_x64", True)

# The module `tensor` is loaded first: loading a submodule binds its name in this package,
# which must end up meaning the function `tensor`, bound below.
from .tensor import Size as Size  # noqa: E402
from .tensor import Tensor as Tensor  # noqa: E402
from . import methods as _methods  # noqa: E402,F401  (binds Tensor's op methods)
from . import dtypes as _dtypes  # noqa: E402
from . import functions as _functions  # noqa: E402
from .engine import enable_grad as enable_grad  # noqa: E402
from .engine import inference_mode as inference_mode  # noqa: E402
from .engine import is_grad_enabled as is_grad_enabled  # noqa: E402
from .engine import no_grad as no_grad  # noqa: E402
from .engine import set_grad_enabled as set_grad_enabled  # noqa: E402
from .ops.creation import BoolTensor as BoolTensor  # noqa: E402
from .ops.creation import ByteTensor as ByteTensor  # noqa: E402
from .ops.creation import CharTensor as CharTensor  # noqa: E402
from .ops.creation import DoubleTensor as DoubleTensor  # noqa: E402
from .ops.creation import FloatTensor as FloatTensor  # noqa: E402
from .ops.creation import HalfTensor as HalfTensor  # noqa: E402
from .ops.creation import IntTensor as IntTensor  # noqa: E402
from .ops.creation import LongTensor as LongTensor  # noqa: E402
from .ops.creation import ShortTensor as ShortTensor  # noqa: E402
from .ops.creation import arange as arange  # noqa: E402
from .ops.creation import as_tensor as as_tensor  # noqa: E402
from .ops.creation import empty as empty  # noqa: E402
from .ops.creation import empty_like as empty_like  # noqa: E402
from .ops.creation import eye as eye  # noqa: E402
from .ops.creation import from_numpy as from_numpy  # noqa: E402
from .ops.creation import full as full  # noqa: E402
from .ops.creation import full_like as full_like  # noqa: E402
from .ops.creation import linspace as linspace  # noqa: E402
from .ops.creation import ones as ones  # noqa: E402
from .ops.creation import ones_like as ones_like  # noqa: E402
from .ops.creation import tensor as tensor  # noqa: E402
from .ops.creation import zeros as zeros  # noqa: E402
from .ops.creation import zeros_like as zeros_like  # noqa: E402
from .device import device as device  # noqa: E402
from .device import get_default_device as get_default_device  # noqa: E402
from .device import set_default_device as set_default_device  # noqa: E402
from .dtypes import dtype as dtype  # noqa: E402
from .dtypes import get_default_dtype as get_default_dtype  # noqa: E402
from .dtypes import promote_types as promote_types  # noqa: E402
from .layouts import channels_last as channels_last  # noqa: E402
from .layouts import channels_last_3d as channels_last_3d  # noqa: E402
from .layouts import contiguous_format as contiguous_format  # noqa: E402
from .layouts import layout as layout  # noqa: E402
from .layouts import memory_format as memory_format  # noqa: E402
from .layouts import preserve_format as preserve_format  # noqa: E402
from .layouts import strided as strided  # noqa: E402
from .printing import set_printoptions as set_printoptions  # noqa: E402
from .ops.random import Generator as Generator  # noqa: E402
from .ops.random import initial_seed as initial_seed  # noqa: E402
from .ops.random import manual_seed as manual_seed  # noqa: E402
from .ops.random import rand as rand  # noqa: E402
from .ops.random import rand_like as rand_like  # noqa: E402
from .ops.random import randint as randint  # noqa: E402
from .ops.random import randn as randn  # noqa: E402
from .ops.random import randn_like as randn_like  # noqa: E402
from .ops.random import randperm as randperm  # noqa: E402
from .ops.random import randint_like as randint_like  # noqa: E402
from .ops.random import default_generator as default_generator  # noqa: E402
from .ops.random import get_rng_state as get_rng_state  # noqa: E402
from .ops.random import set_rng_state as set_rng_state  # noqa: E402
from .ops.random import seed as seed  # noqa: E402
from .serialization import load as load  # noqa: E402
from .serialization import save as save  # noqa: E402
from .compilation import compile_stats as compile_stats  # noqa: E402
from .compilation import explain_compiles as explain_compiles  # noqa: E402
from .compilation import use_persistent_cache as _use_persistent_cache  # noqa: E402

globals().update(_functions.FUNCTIONS)  # torch.add, torch.cat, torch.exp, ... (functions.py)
globals().update(_dtypes.ALIASES)  # float32, float, long, double, ... as in PyTorch

from . import accelerator as accelerator  # noqa: E402
from . import cuda as cuda  # noqa: E402
from . import autograd as autograd  # noqa: E402
from . import nn as nn  # noqa: E402
from . import optim as optim  # noqa: E402
from . import utils as utils  # noqa: E402
from . import func as func  # noqa: E402
from . import linalg as linalg  # noqa: E402
from . import fft as fft  # noqa: E402
from . import special as special  # noqa: E402
from . import signal as signal  # noqa: E402

_use_persistent_cache()

__version__ = "2.13.0+nablax"
