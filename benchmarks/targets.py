"""nablax's performance targets, each a ratio of two figures from the same run that must not
exceed a threshold. A target whose figures were not measured (a contender not installed, a
workload not run) is reported as such, neither met nor missed."""

from __future__ import annotations

import dataclasses

import numpy as np

from .measure import WorkloadResult
from .timing import low_percentile, relative_spread


@dataclasses.dataclass(frozen=True)
class Figure:
    workload: str  # workload key
    contender: str  # contender key
    kind: str = "step"  # "step": time per step (10th percentile of bursts); "first": first-step latency (median)

    def samples(self, results: dict[str, WorkloadResult]) -> list[float] | str:
        """The figure's samples in seconds, or why it is missing."""
        result = results.get(self.workload)
        if result is None:
            return f"workload {self.workload} not run"
        measurement = result.measurements.get(self.contender)
        if measurement is None:
            return f"{self.contender} {result.skipped.get(self.contender, 'not run')}"
        return measurement.seconds_per_step if self.kind == "step" else measurement.first_step_seconds


@dataclasses.dataclass(frozen=True)
class Target:
    description: str
    numerator: Figure
    denominator: Figure
    threshold: float

    def evaluate(self, results: dict[str, WorkloadResult]) -> tuple[float | None, float | None, str]:
        """`(ratio, spread, verdict)`: the ratio of the two figures (10th percentiles of bursts
        for times per step, medians for first steps), the larger relative spread of their
        samples, and MET, MISSED, or "not measured: why"."""
        top, bottom = self.numerator.samples(results), self.denominator.samples(results)
        for samples in (top, bottom):
            if isinstance(samples, str):
                return None, None, f"not measured: {samples}"
        figure = low_percentile if self.numerator.kind == "step" else np.median
        ratio = float(figure(top) / figure(bottom))
        spread = max(relative_spread(top), relative_spread(bottom))
        return ratio, spread, "MET" if ratio <= self.threshold else "MISSED"


# The targets name PyTorch with its default threads; the same ratios against PyTorch on one
# thread show how much of a margin comes from PyTorch's thread pool stalling on a busy machine.
TORCH_THREADS = (("torch", ""), ("torch-1t", " with 1 thread (cross-check)"))


def _targets() -> list[Target]:
    targets = [
        Target(f"nablax step / JAX `jit` step, {size} MLP", Figure(size, "nablax"), Figure(size, "jax"), 1.05)
        for size in ("tiny", "medium", "large")
    ]
    targets += [
        Target(f"nablax `fit` (fused epochs) / PyTorch eager{suffix}, per step, tiny MLP",
               Figure("tiny", "nablax-fit"), Figure("tiny", torch), 1 / 20)
        for torch, suffix in TORCH_THREADS
    ]
    targets += [
        Target(f"nablax step / {title} step, {size} MLP", Figure(size, "nablax"), Figure(size, other), 0.5)
        for size in ("tiny", "medium")
        for other, title in (("nnx", "Flax `nnx.jit`"), ("equinox", "Equinox `filter_jit`"))
    ]
    targets += [
        Target(f"nablax.stateful / PyTorch eager{suffix}, {name}", Figure(key, "nablax-stateful"), Figure(key, torch), 1.0)
        for torch, suffix in TORCH_THREADS
        for key, name in (("linreg", "linear regression loop"), ("tiny", "tiny MLP"), ("medium", "medium MLP"))
    ]
    targets += [
        Target("nablax step / JAX `jit` step, GPT", Figure("gpt", "nablax"), Figure("gpt", "jax"), 1.05),
        *(Target(f"nablax step / PyTorch eager{suffix}, GPT", Figure("gpt", "nablax"), Figure("gpt", torch), 0.8)
          for torch, suffix in TORCH_THREADS),
    ]
    targets += [
        Target(f"nablax step / JAX `jit` step, first-step latency, {name}",
               Figure(key, "nablax", "first"), Figure(key, "jax", "first"), 1.2)
        for key, name in (("tiny", "tiny MLP"), ("medium", "medium MLP"), ("large", "large MLP"),
                          ("linreg", "linear regression"), ("cnn", "digits CNN"))
    ]
    return targets


TARGETS = _targets()
