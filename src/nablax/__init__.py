"""nablax: deep learning on JAX, as pure functions over parameter pytrees.

    import nablax as nx
    model = nx.nn.MLP([64, 128, 10])
    params = model.init(0)
    logits = model.apply(params, x)

The PyTorch-style face lives in `nablax.stateful`.
"""

from . import callbacks as callbacks
from . import checkpoint as checkpoint
from . import clipping as clipping
from . import data as data
from . import losses as losses
from . import metrics as metrics
from . import nn as nn
from . import parallel as parallel
from . import plot as plot
from .fit import fit as fit
from .history import History as History
from .precision import Precision as Precision
from .state_dict import count_parameters as count_parameters
from .state_dict import load_state_dict as load_state_dict
from .state_dict import state_dict as state_dict
from .summary import Summary as Summary
from .summary import summary as summary
from .train import TrainState as TrainState
from .train import evaluate as evaluate
from .train import make_eval_step as make_eval_step
from .train import make_train_step as make_train_step
from .train import supervised_loss as supervised_loss

__version__ = "0.1.0"
