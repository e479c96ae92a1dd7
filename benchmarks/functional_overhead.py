"""What nablax's functional face costs over hand-written JAX + optax, per training step.

    python -m benchmarks.functional_overhead

The MLP rows of the side-by-side suite (`python -m benchmarks.run`), with only hand-written
JAX (a `jax.jit` step with `optax.sgd`, buffers donated) and nablax's functional face (the
`nx.make_train_step` step, and `nx.fit` with each epoch fused into one `lax.scan`), timed in
one process in alternating rounds. Prints each time and the ratio to hand-written JAX.
Target: nablax step / hand-written <= 1.05.
"""

from __future__ import annotations

import jax

from .measure import step_seconds
from .timing import markdown_table
from .workloads import MLP_SIZES


def main() -> None:
    rows = []
    for title, (hand, step, fit) in step_seconds(list(MLP_SIZES), ["jax", "nablax", "nablax-fit"]):
        rows.append([title, f"{hand * 1e6:.1f}", f"{step * 1e6:.1f}", f"{step / hand:.3f}", f"{fit * 1e6:.1f}", f"{fit / hand:.3f}"])
    header = ["MLP", "hand-written JAX (us/step)", "nablax step (us/step)", "nablax step / hand",
              "nablax fit, fused (us/step)", "fit / hand"]
    print(f"device: {jax.devices()[0].device_kind}, jax {jax.__version__}")
    print(markdown_table(header, rows))


if __name__ == "__main__":
    main()
