"""`torch.nn` for `nablax.stateful`: `Module`, `Parameter`, layers, losses, `functional`, `init`."""

from . import functional as functional
from . import init as init
from .module import Module as Module
from .modules import BCELoss as BCELoss
from .modules import BCEWithLogitsLoss as BCEWithLogitsLoss
from .modules import CrossEntropyLoss as CrossEntropyLoss
from .modules import Dropout as Dropout
from .modules import Flatten as Flatten
from .modules import GELU as GELU
from .modules import Identity as Identity
from .modules import L1Loss as L1Loss
from .modules import Linear as Linear
from .modules import LogSoftmax as LogSoftmax
from .modules import ModuleList as ModuleList
from .modules import MSELoss as MSELoss
from .modules import NLLLoss as NLLLoss
from .modules import ReLU as ReLU
from .modules import Sequential as Sequential
from .modules import Sigmoid as Sigmoid
from .modules import Softmax as Softmax
from .modules import Tanh as Tanh
from .parameter import Parameter as Parameter
