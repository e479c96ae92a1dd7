"""Timing helpers for side-by-side benchmarks on a shared, noisy machine: contenders run in
many short alternating bursts within one process and are compared by the ratio of a low
percentile of their bursts (`low_percentile`): noise only ever adds time, and a low
percentile of many short samples is what it disturbs least.

A runner is `run(steps)`: it does at least `steps` steps of work, waits until the work is
done, and returns None (it did exactly `steps`) or `(steps_done, anything)`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np


def time_per_call(run: Callable[[int], object], calls: int) -> float:
    """Seconds per step of `run(calls)`, which must block until its work is done."""
    start = time.perf_counter()
    done = run(calls)
    elapsed = time.perf_counter() - start
    return elapsed / (done[0] if isinstance(done, tuple) else calls)


def steps_per_round(run: Callable[[int], object], seconds: float) -> int:
    """How many steps `run` takes to fill about `seconds`, found by timing growing runs (the
    runner must be warm: compiled, caches filled)."""
    steps = 1
    while True:
        per_step = time_per_call(run, steps)
        if per_step * steps >= seconds / 4 or steps >= 1 << 20:
            return max(1, math.ceil(seconds / per_step))
        steps *= 4


def interleaved_samples(runs: dict[str, Callable[[int], object]], steps: dict[str, int], *, rounds: int) -> dict[str, list[float]]:
    """Seconds per step of each runner, one sample per round. Within a round every runner
    runs once, starting from a different one each round, so that a burst of load elsewhere
    on the machine, or the cache state one runner leaves behind, hits all of them alike."""
    samples: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for round_index in range(rounds if names else 0):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(time_per_call(runs[name], steps[name]))
    return samples


def interleaved_medians(contenders: dict[str, Callable[[int], None]], *, calls: int, rounds: int = 7) -> dict[str, float]:
    """Median seconds per call of each contender, measured in alternating rounds of `calls`
    calls, after a warm-up run of a tenth of that."""
    for run in contenders.values():
        run(max(calls // 10, 1))  # warm up: compile, fill caches
    samples = interleaved_samples(contenders, {name: calls for name in contenders}, rounds=rounds)
    return {name: float(np.median(values)) for name, values in samples.items()}


PERCENTILE = 10  # the percentile of the bursts a figure is


def low_percentile(samples: list[float]) -> float:
    """The figure a list of bursts gives: its 10th percentile."""
    return float(np.percentile(samples, PERCENTILE))


def relative_spread(samples: list[float]) -> float:
    """The interquartile range of `samples` relative to their median: how noisy they were."""
    low, median, high = np.percentile(samples, [25, 50, 75])
    return float((high - low) / median) if median else 0.0


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
