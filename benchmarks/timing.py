"""Timing helpers for side-by-side benchmarks on a shared, noisy machine: contenders run in
alternating rounds within one process and are compared by the ratio of their medians."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def time_per_call(run: Callable[[int], None], calls: int) -> float:
    """Seconds per call of `run(calls)`, which must block until its work is done."""
    start = time.perf_counter()
    run(calls)
    return (time.perf_counter() - start) / calls


def interleaved_medians(contenders: dict[str, Callable[[int], None]], *, calls: int, rounds: int = 7) -> dict[str, float]:
    """Median seconds per call of each contender, measured in alternating rounds so that a
    burst of load elsewhere on the machine hits all of them alike."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for run in contenders.values():
        run(max(calls // 10, 1))  # warm up: compile, fill caches
    for _ in range(rounds):
        for name, run in contenders.items():
            samples[name].append(time_per_call(run, calls))
    return {name: float(np.median(values)) for name, values in samples.items()}


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
