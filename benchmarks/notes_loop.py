"""The notes' gradient-descent loop exactly as written: nablax.stateful against PyTorch.

    python -m benchmarks.notes_loop [--bursts 60] [--burst-seconds 0.05]

The loop of examples/notes/gradient_descent.py, without its print: `X` and `Y` made with
`torch.tensor([1, 2, 3, 4], dtype=torch.float32)`, `w` a 0-d leaf, the forward and the loss
as the notes' functions, `l.backward()`, `w -= learning_rate * w.grad` under `no_grad`
(an augmented assignment on a module-level name, as in the notes), `w.grad.zero_()`, and
nothing read between iterations. The same source runs with `torch` bound to PyTorch and to
`nablax.stateful`, in one process, in alternating bursts; each framework's figure is the
10th percentile of its bursts' time per iteration, and the ratio nablax / PyTorch is
reported with each framework's spread. Target: at most 1.0.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from .timing import low_percentile, markdown_table, relative_spread

SETUP = """
X = torch.tensor([1, 2, 3, 4], dtype=torch.float32)
Y = torch.tensor([2, 4, 6, 8], dtype=torch.float32)
w = torch.tensor(0.0, dtype=torch.float32, requires_grad=True)

def forward(x):
    return w * x

def loss(y, y_predicted):
    return ((y_predicted - y) ** 2).mean()

learning_rate = 0.01
"""

LOOP = """
for epoch in range(n_iters):
    y_pred = forward(X)
    l = loss(Y, y_pred)
    l.backward()
    with torch.no_grad():
        w -= learning_rate * w.grad
    w.grad.zero_()
float(w)
"""


class NotesLoop:
    """The loop's namespace under one framework: `run(n)` runs n iterations and waits for
    the result (reading `w` once at the end, as the notes' last print does)."""

    def __init__(self, torch):
        self.namespace = {"torch": torch}
        exec(SETUP, self.namespace)  # noqa: S102 - the notes' code, run as a script runs it
        self.code = compile(LOOP, "<notes loop>", "exec")

    def run(self, iterations: int) -> float:
        self.namespace["n_iters"] = iterations
        start = time.perf_counter()
        exec(self.code, self.namespace)  # noqa: S102
        return (time.perf_counter() - start) / iterations


def iterations_per_burst(loop: NotesLoop, seconds: float) -> int:
    iterations = 8
    while loop.run(iterations) * iterations < seconds:
        iterations *= 2
    return iterations


def measure(bursts: int, burst_seconds: float) -> dict[str, list[float]]:
    import torch

    import nablax.stateful as stateful

    loops = {"PyTorch": NotesLoop(torch), "nablax.stateful": NotesLoop(stateful)}
    sizes = {name: iterations_per_burst(loop, burst_seconds) for name, loop in loops.items()}
    samples: dict[str, list[float]] = {name: [] for name in loops}
    names = list(loops)
    for burst in range(bursts):
        for name in names if burst % 2 == 0 else names[::-1]:
            samples[name].append(loops[name].run(sizes[name]))
    return samples


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bursts", type=int, default=60, help="alternating bursts per framework")
    parser.add_argument("--burst-seconds", type=float, default=0.05, help="about how long one burst runs")
    args = parser.parse_args(argv)
    samples = measure(args.bursts, args.burst_seconds)
    figures = {name: low_percentile(times) for name, times in samples.items()}
    rows = [[name, f"{figures[name] * 1e6:.1f}", f"{np.median(times) * 1e6:.1f}", f"{relative_spread(times):.0%}"]
            for name, times in samples.items()]
    print(markdown_table(["framework", "us/iteration (10th percentile)", "median", "spread (IQR/median)"], rows))
    print(f"\nnablax.stateful / PyTorch: {figures['nablax.stateful'] / figures['PyTorch']:.2f} (target: <= 1.0)")


if __name__ == "__main__":
    main()
