"""Where a nablax functional step's time goes beyond a hand-written JAX step, on the MLPs.

    python -m benchmarks.step_overhead                 # tiny MLP, about 10 s
    python -m benchmarks.step_overhead --workloads tiny,medium --bursts 60

Five versions of the same SGD step, each one change away from the one before, are timed in
many short alternating bursts within one process. Each figure is the 10th percentile of its
bursts: on a shared machine noise only ever adds time, and a low percentile of many short
samples is what it disturbs least (the suite's medians of longer rounds cannot resolve a
microsecond on a tiny model). The versions:

1. hand-written JAX + optax: parameters in one flat dict, optax's cross-entropy;
2. the parameters as nablax holds them, a dict per layer;
3. nablax's cross-entropy (PyTorch's: the mean skips `ignore_index` targets);
4. nablax's compiled step called directly (it also returns the loss in a dict of metrics);
5. nablax's step as users call it, `state, metrics = step(state, batch)`: a `TrainState`
   unpacked and the next one built, in Python, around the same program, which leaves out an
   optimizer state without arrays (SGD's: jit would flatten and rebuild its two empty nodes
   on every call).

A last row, for reference: version 1 with SGD's empty state left out of the call in the
same way, the fastest hand-written step.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np
import optax

import nablax as nx

from .contenders import jax_by_hand, nablax_functional
from .contenders.loops import cycling_runner
from .timing import interleaved_samples, markdown_table, steps_per_round
from .workloads import MLP_SIZES, make_workload

VERSIONS = [
    "hand-written JAX",
    "+ parameters as a dict per layer",
    "+ nablax's cross-entropy",
    "+ nablax's compiled step (metrics dict)",
    "+ `step(state, batch)` (TrainState)",
    "reference: hand-written JAX, empty optimizer state not passed",
]


def _per_layer(flat: dict) -> dict:
    """`{"0.weight": w}` as `{"0": {"weight": w}}`."""
    nested: dict = {}
    for name, value in flat.items():
        layer, kind = name.split(".")
        nested.setdefault(layer, {})[kind] = value
    return nested


def _hand_step_runner(workload, loss, per_layer: bool, pass_opt_state: bool = True):
    """A jitted, donating SGD step of `loss(flat_params, batch)`, its parameters held flat or
    per layer (then regrouped inside the program, which costs nothing there), and SGD's
    optimizer state (which holds no arrays) passed in and out of each call or left out."""
    optimizer = workload.optax_optimizer()

    def step(params, opt_state, batch):
        flat = nx.state_dict(params) if per_layer else params
        value, grads = jax.value_and_grad(loss)(flat, batch)
        updates, opt_state = optimizer.update(grads, opt_state, flat)
        new = optax.apply_updates(flat, updates)
        return (_per_layer(new) if per_layer else new), opt_state, value

    params = {name: jnp.asarray(value) for name, value in workload.initial.items()}
    params = _per_layer(params) if per_layer else params
    carry = [params, optimizer.init(params)]
    if pass_opt_state:
        compiled = jax.jit(step, donate_argnums=(0, 1))

        def one_step(batch):
            carry[0], carry[1], value = compiled(carry[0], carry[1], batch)
            return value

        return one_step

    empty = carry[1]
    compiled_without = jax.jit(lambda params, batch: step(params, empty, batch)[::2], donate_argnums=0)

    def one_step_without(batch):
        carry[0], value = compiled_without(carry[0], batch)
        return value

    return one_step_without


def step_runners(workload) -> dict:
    """`{version: runner}` for the five versions and the reference, in order."""
    hand_loss = jax_by_hand.mlp_loss(workload.linear_names())
    nablax_loss, state = nablax_functional.initial_state(workload)
    train_step = nx.make_train_step(nablax_loss, workload.optax_optimizer())
    batches = [(jnp.asarray(x), jnp.asarray(y)) for x, y in workload.batches()]

    compiled_state = [jax.tree_util.tree_map(jnp.copy, state.params), jax.tree_util.tree_map(jnp.copy, state.opt_state)]

    compiled = train_step.__wrapped__.plain_program

    def compiled_step(batch):
        compiled_state[0], compiled_state[1], metrics = compiled(compiled_state[0], compiled_state[1], batch)
        return metrics["loss"]

    held = [state]

    def user_step(batch):
        held[0], metrics = train_step(held[0], batch)
        return metrics["loss"]

    one_steps = [
        _hand_step_runner(workload, lambda params, batch: hand_loss(params, None, batch)[0], per_layer=False),
        _hand_step_runner(workload, lambda params, batch: hand_loss(params, None, batch)[0], per_layer=True),
        _hand_step_runner(workload, lambda params, batch: nablax_loss(_per_layer(params), batch)[0], per_layer=True),
        compiled_step,
        user_step,
        _hand_step_runner(workload, lambda params, batch: hand_loss(params, None, batch)[0], per_layer=False,
                          pass_opt_state=False),
    ]
    return {version: cycling_runner(one_step, batches) for version, one_step in zip(VERSIONS, one_steps)}


def measure(workload_key: str, *, bursts: int, burst_seconds: float) -> list[list[str]]:
    """Table rows for one workload: each version's 10th percentile and median time per step,
    and its 10th percentile relative to hand-written JAX's."""
    runners = step_runners(make_workload(workload_key))
    losses = [run(20)[1] for run in runners.values()]  # compile, warm up
    if not np.allclose(losses, losses[0], rtol=1e-5):
        raise RuntimeError(f"the versions of the step do not do the same work: losses after 20 steps {losses}")
    steps = {version: steps_per_round(run, burst_seconds) for version, run in runners.items()}
    samples = interleaved_samples(runners, steps, rounds=bursts)
    base = np.percentile(samples[VERSIONS[0]], 10)
    rows = []
    for version in VERSIONS:
        low, median = np.percentile(samples[version], [10, 50])
        rows.append([workload_key, version, f"{low * 1e6:.2f}", f"{median * 1e6:.2f}", f"{low / base:.3f}"])
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="tiny", help=f"comma-separated, from {','.join(MLP_SIZES)}")
    parser.add_argument("--bursts", type=int, default=120, help="alternating bursts per version")
    parser.add_argument("--burst-seconds", type=float, default=0.01, help="about how long one burst runs")
    args = parser.parse_args(argv)
    rows = []
    for key in args.workloads.split(","):
        if key not in MLP_SIZES:
            parser.error(f"unknown MLP workload {key!r}; choose from {', '.join(MLP_SIZES)}")
        rows += measure(key, bursts=args.bursts, burst_seconds=args.burst_seconds)
    print(f"device: {jax.devices()[0].device_kind}, jax {jax.__version__}; 10th percentile and median of "
          f"{args.bursts} bursts each")
    print(markdown_table(["MLP", "version", "p10 (us/step)", "median (us/step)", "p10 / hand-written"], rows))


if __name__ == "__main__":
    main()
