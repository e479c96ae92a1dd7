"""Data-parallel training of an MLP on the scikit-learn digits with `nablax.parallel`: one
script for one device, several devices, or several hosts.

    python examples/data_parallel.py                  # every local device (one CPU: still runs)
    XLA_FLAGS=--xla_force_host_platform_device_count=4 python examples/data_parallel.py
    XLA_FLAGS=--xla_force_host_platform_device_count=4 python examples/data_parallel.py --model 2

`--model N` adds a 'model' axis of N devices along which the large parameters are split
(FSDP-style). On several hosts, run the same command on every host with

    JAX_COORDINATOR_ADDRESS=<host 0>:1234 JAX_NUM_PROCESSES=<hosts> JAX_PROCESS_ID=<0, 1, ...>

On one process the script also trains without a mesh and prints how far the parameters are
from those of one device.
"""

from __future__ import annotations

import argparse

import jax
import numpy as np
import optax

import nablax as nx
from nablax.demo import load_digits_split


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64, help="the global batch, over every device and host")
    parser.add_argument("--model", type=int, default=1, help="devices per model group (parameters split FSDP-style)")
    parser.add_argument("--hidden", type=int, default=256)
    args = parser.parse_args(argv)

    nx.parallel.initialize()  # joins the other hosts when JAX_COORDINATOR_ADDRESS & co. are set; else nothing
    mesh = nx.parallel.mesh(model=args.model) if args.model > 1 else nx.parallel.data_mesh()
    say = nx.parallel.main_process_only(print)
    say(f"{jax.process_count()} process(es), {jax.device_count()} device(s), mesh {dict(mesh.shape)}")

    x_train, x_test, y_train, y_test = load_digits_split()
    # Every step takes a full global batch, and every process an equal share of the data.
    usable = len(x_train) - len(x_train) % args.batch_size
    train_rows = nx.parallel.process_shard((x_train[:usable], y_train[:usable]), mesh)
    test_rows = nx.parallel.process_shard((x_test[: len(x_test) - len(x_test) % 8], y_test[: len(y_test) - len(y_test) % 8]), mesh)

    model = nx.nn.MLP([64, args.hidden, 10])
    loss_fn = nx.supervised_loss(model, nx.losses.cross_entropy, metrics={"accuracy": nx.metrics.accuracy})
    optimizer = optax.adam(1e-3)
    min_fsdp_size = 4096  # the 256x64 first layer (16384 elements) is split, the 10x256 last one is not
    state, history = nx.fit(loss_fn, optimizer, model.init(0), train_rows, epochs=args.epochs, batch_size=args.batch_size,
                            key=0, eval_data=test_rows, mesh=mesh, min_fsdp_size=min_fsdp_size)

    say("where the parameters live:")
    for name, value in nx.state_dict(state.params).items():
        say(f"  {name:10} {value.shape!s:10} {value.sharding.spec}")
    accuracy = history["val_accuracy"][-1]
    say(f"test accuracy after {args.epochs} epochs: {accuracy:.3f}")

    if jax.process_count() == 1:
        one_device, _ = nx.fit(loss_fn, optimizer, model.init(0), train_rows, epochs=args.epochs,
                               batch_size=args.batch_size, key=0, progress=False)
        gap = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in
                  zip(jax.tree_util.tree_leaves(state.params), jax.tree_util.tree_leaves(one_device.params)))
        say(f"largest parameter difference from training on one device: {gap:.1e}")

    params = nx.parallel.gather_to_host(state.params)  # every process joins; then process 0 alone would save
    say(f"gathered {nx.count_parameters(params)} parameters to the host of process 0")
    return accuracy


if __name__ == "__main__":
    main()
