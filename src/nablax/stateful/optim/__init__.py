"""`torch.optim` for the stateful face: PyTorch's optimizers over optax, and
`lr_scheduler`. Each optimizer's `step()` is one recorded update over all parameters; its
state dict has PyTorch's layout and loads into `torch.optim` and back."""

from . import lr_scheduler as lr_scheduler
from .adam import Adam as Adam
from .adam import Adamax as Adamax
from .adam import AdamW as AdamW
from .adam import NAdam as NAdam
from .adam import RAdam as RAdam
from .optimizer import Optimizer as Optimizer
from .rmsprop import Adadelta as Adadelta
from .rmsprop import Adagrad as Adagrad
from .rmsprop import RMSprop as RMSprop
from .sgd import SGD as SGD
