"""A long training run of the stateful face whose shapes keep changing: memory and the
compile caches must stay bounded.

    python -m benchmarks.soak --iterations 20000

Trains an `nn.Sequential` MLP with `optim.SGD` in the notes' loop (`zero_grad`, forward,
loss, `backward`, `step`, `loss.item()`). Every few iterations the batch size is drawn
anew from a wide range, so the run meets more distinct shapes than any cache holds (JAX
compiles a program once per set of input shapes). Prints, at regular intervals, the
resident memory, the lazy engine's program cache (programs, the executables JAX holds for
them, programs built, times JAX's caches were emptied) and the shapes met so far.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np

import nablax.stateful as torch
from nablax.stateful.engine import cache as program_cache


def resident_mib() -> float:
    """The resident set size now (from /proc), or the peak where /proc is missing."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10  # KiB on Linux


def cache_figures() -> dict:
    cache = program_cache.PROGRAMS
    return {"programs": len(cache), "executables": cache.compiled, "built": cache.compiles, "clears": cache.clears}


def soak(iterations: int, change_every: int, max_batch: int, features: int, hidden: int, classes: int,
         report_every: int, seed: int):
    """Runs the training loop; yields one row of figures every `report_every` iterations."""
    nn = torch.nn
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, classes))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    rng = np.random.default_rng(seed)
    shapes: set[int] = set()
    start = time.perf_counter()
    for iteration in range(iterations):
        if iteration % change_every == 0:
            batch = int(rng.integers(1, max_batch + 1))
            shapes.add(batch)
            inputs = torch.tensor(rng.standard_normal((batch, features)).astype(np.float32))
            targets = torch.tensor(rng.integers(0, classes, batch))
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        value = loss.item()
        if iteration % report_every == 0 or iteration == iterations - 1:
            yield {"iteration": iteration + 1, "seconds": time.perf_counter() - start, "rss_mib": resident_mib(),
                   **cache_figures(), "shapes": len(shapes), "loss": value}


COLUMNS = [("iteration", "{:d}"), ("seconds", "{:.0f}"), ("rss_mib", "{:.0f}"), ("programs", "{:d}"),
           ("executables", "{:d}"), ("built", "{:d}"), ("clears", "{:d}"), ("shapes", "{:d}"), ("loss", "{:.3f}")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=20000)
    parser.add_argument("--change-every", type=int, default=5, help="iterations between batch-size changes")
    parser.add_argument("--max-batch", type=int, default=2048, help="batch sizes are drawn from 1..max-batch")
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--report-every", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"cache bounds: {program_cache.PROGRAMS.size} programs, {program_cache.PROGRAMS.compiled_size} executables, "
          f"{program_cache.PROGRAMS.shapes_per_program} per program; JAX's caches emptied every "
          f"{program_cache.PROGRAMS.released_before_clearing} executables released", flush=True)
    print("| " + " | ".join(name for name, _ in COLUMNS) + " |\n|" + " --- |" * len(COLUMNS), flush=True)
    rows = []
    for row in soak(args.iterations, args.change_every, args.max_batch, args.features, args.hidden, args.classes,
                    args.report_every, args.seed):
        rows.append(row)
        print("| " + " | ".join(form.format(row[name]) for name, form in COLUMNS) + " |", flush=True)
    rss = [row["rss_mib"] for row in rows]
    print(f"\nRSS: start {rss[0]:.0f} MiB, middle {rss[len(rss) // 2]:.0f} MiB, end {rss[-1]:.0f} MiB, "
          f"peak {max(rss):.0f} MiB; {rows[-1]['seconds']:.0f} s for {rows[-1]['iteration']} iterations")


if __name__ == "__main__":
    main()
