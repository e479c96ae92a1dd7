"""Pure layers: each is a frozen description with `init(key) -> params` and
`apply(params, x, *, key=None, train=False)`, plus the plain functions they are made of."""

from .activation import GELU as GELU
from .activation import LogSoftmax as LogSoftmax
from .activation import ReLU as ReLU
from .activation import Sigmoid as Sigmoid
from .activation import Softmax as Softmax
from .activation import Tanh as Tanh
from .activation import gelu as gelu
from .activation import log_softmax as log_softmax
from .activation import relu as relu
from .activation import sigmoid as sigmoid
from .activation import softmax as softmax
from .activation import tanh as tanh
from .dropout import Dropout as Dropout
from .dropout import dropout as dropout
from .flatten import Flatten as Flatten
from .flatten import flatten as flatten
from .layer import Layer as Layer
from .layer import Params as Params
from .layer import State as State
from .norm import BatchNorm1d as BatchNorm1d
from .norm import BatchNorm2d as BatchNorm2d
from .norm import GroupNorm as GroupNorm
from .norm import LayerNorm as LayerNorm
from .norm import batch_norm as batch_norm
from .norm import group_norm as group_norm
from .norm import layer_norm as layer_norm
from .linear import Linear as Linear
from .linear import linear as linear
from .sequential import MLP as MLP
from .sequential import Sequential as Sequential
