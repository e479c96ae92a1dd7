"""Data-parallel and multi-host training on JAX's own sharding (XLA SPMD).

A `jax.sharding.Mesh` names how devices are arranged: `data_mesh()` puts every device on
one `'data'` axis (data parallelism), `mesh(data=..., model=...)` adds a `'model'` axis
along which parameters with at least `min_fsdp_size` elements are stored split
(FSDP-style). Give the mesh to `nx.make_train_step`, `nx.make_eval_step` or `nx.fit`:
batches are split along `'data'`, the state is placed by the rule of `parameter_spec`, and
XLA partitions the compiled program, gradient reductions included. The same script runs
on one device, on several, and on several hosts after `initialize()`.

    >>> import numpy as np, optax, nablax as nx
    >>> mesh = nx.parallel.data_mesh()
    >>> x = np.linspace(-1, 1, 32, dtype=np.float32).reshape(-1, 1); y = 3 * x
    >>> loss_fn = nx.supervised_loss(nx.nn.Linear(1, 1), nx.losses.mse)
    >>> state, history = nx.fit(loss_fn, optax.sgd(0.5), nx.nn.Linear(1, 1).init(0), (x, y),
    ...                         epochs=20, batch_size=8, key=0, progress=False, mesh=mesh)
    >>> state.params["weight"].sharding.spec, min(history["loss"]) < 1e-4
    (P(), True)
"""

from .layout import DEFAULT_MIN_FSDP_SIZE as DEFAULT_MIN_FSDP_SIZE
from .layout import batch_sharding as batch_sharding
from .layout import parameter_spec as parameter_spec
from .layout import shard_batch as shard_batch
from .layout import shard_data as shard_data
from .layout import shard_state as shard_state
from .layout import state_sharding as state_sharding
from .meshes import DATA_AXIS as DATA_AXIS
from .meshes import MODEL_AXIS as MODEL_AXIS
from .meshes import data_mesh as data_mesh
from .meshes import mesh as mesh
from .processes import gather_to_host as gather_to_host
from .processes import initialize as initialize
from .processes import is_main_process as is_main_process
from .processes import main_process_only as main_process_only
from .processes import process_shard as process_shard
