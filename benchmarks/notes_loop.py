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

import numpy as np

from .timing import interleaved_samples, low_percentile, markdown_table, relative_spread, time_per_call

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

    def run(self, iterations: int) -> None:
        self.namespace["n_iters"] = iterations
        exec(self.code, self.namespace)  # noqa: S102


def iterations_per_burst(run, seconds: float) -> int:
    """How many iterations fill about `seconds`. Not `timing.steps_per_round`, which starts
    from one step: nablax builds a program for each of the first few loops of one or four
    iterations (the read at the end meets a different pending graph each time), so timing
    those would size its bursts at a few iterations."""
    iterations = 8
    while time_per_call(run, iterations) * iterations < seconds:
        iterations *= 2
    return iterations


def measure(bursts: int, burst_seconds: float) -> dict[str, list[float]]:
    """Seconds per iteration of each framework's loop, one sample per burst."""
    import torch

    import nablax.stateful as stateful

    runs = {"PyTorch": NotesLoop(torch).run, "nablax.stateful": NotesLoop(stateful).run}
    for run in runs.values():
        run(20)  # warm up: compile, fill caches
    steps = {name: iterations_per_burst(run, burst_seconds) for name, run in runs.items()}
    return interleaved_samples(runs, steps, rounds=bursts)


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
