"""The engine under `nablax.stateful`: tensors are lazy expressions, run as compiled programs.

Every op records an `Expr` (graph.py) whose shape and dtype are known at once. A value is
computed only when something needs it: the pending graph behind it is flattened by one walk
into a hashable plan (plan.py), whose program (program.py) `jax.jit` compiles once and the
cache (cache.py) keeps, so a training loop pays one dispatch per step instead of one per op.
A backward pass (backward.py) is the same walk told which edges to differentiate, and one
program that runs the pending values, the forward pass and a single `jax.vjp`. Grad mode is
in gradmode.py; reference.py is a slow, obviously correct interpreter of the same graphs.

This package imports only JAX and NumPy: it knows nothing of tensors or of PyTorch.
"""

from .arguments import on_device as on_device
from .backward import BackwardPass as BackwardPass
from .cache import ProgramCache as ProgramCache
from .cache import release_jax_memory as release_jax_memory
from .evaluate import realize as realize
from .evaluate import value_of as value_of
from .graph import DETACH as DETACH
from .graph import KEEP_HISTORY as KEEP_HISTORY
from .graph import MAX_PENDING_DEPTH as MAX_PENDING_DEPTH
from .graph import SELECT as SELECT
from .graph import VAR as VAR
from .graph import Expr as Expr
from .graph import Op as Op
from .graph import dead_end as dead_end
from .graph import detached as detached
from .graph import is_live as is_live
from .graph import leaf_of as leaf_of
from .graph import source as source
from .graph import strip as strip
from .graph import variable as variable
from .graph import with_history as with_history
from .gradmode import MODE as MODE
from .gradmode import enable_grad as enable_grad
from .gradmode import inference_mode as inference_mode
from .gradmode import is_grad_enabled as is_grad_enabled
from .gradmode import no_grad as no_grad
from .gradmode import set_grad_enabled as set_grad_enabled
from .host import values_on_host as values_on_host
from .plan import Plan as Plan
from .plan import Ref as Ref
