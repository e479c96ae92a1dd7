"""Measuring one workload: every contender's first step (trace, compile, run) from fresh
builds, then its time per step in many short interleaved bursts (a figure is their 10th
percentile, see timing.py), and, where asked, a large jitted matrix product timed in the
same bursts as the machine's reference throughput."""

from __future__ import annotations

import dataclasses
import sys
import time

import numpy as np

from .contenders import CONTENDERS, Contender
from .timing import interleaved_samples, low_percentile, relative_spread, steps_per_round
from .workloads import Workload, make_workload

# nablax.stateful compiles a new program for the first few steps (before and after the
# optimizer has state), and once more when the batches come round again: a batch's first
# use also computes its pending conversions (`y.long()`), later uses find them done. The
# warm-up covers both, before timing starts.
WARMUP_STEPS = 5
# nablax.stateful compiles a program again, optimized, once its runs add up to a quarter of a
# second (see engine/cache.py). Each runner then runs for at least WARMUP_SECONDS before its
# steps per burst are counted and timing starts, so that the bursts time the program a long
# loop runs, and a burst holds as many steps as that program fits in it.
WARMUP_SECONDS = 0.5


@dataclasses.dataclass(frozen=True)
class Settings:
    bursts: int = 45
    burst_seconds: float = 0.025  # time each contender runs in one burst
    first_step_repeats: int = 3  # fresh builds whose first step is timed; the median is reported
    matmul_size: int = 2048
    warm_up_every_batch: bool = True
    warmup_seconds: float = WARMUP_SECONDS


QUICK = Settings(bursts=2, burst_seconds=0.002, first_step_repeats=1, matmul_size=256, warm_up_every_batch=False,
                 warmup_seconds=0.0)


def run_for(run, seconds: float) -> None:
    """Runs `run` in growing calls until it has run for about `seconds`."""
    steps, start = 1, time.perf_counter()
    while time.perf_counter() - start < seconds:
        run(steps)
        steps *= 2


def warmup_steps(workload: Workload, settings: Settings) -> int:
    """Steps each runner takes before timing: the first few, then (unless a quick run) once
    round the batches."""
    return WARMUP_STEPS + (len(workload.batches()) if settings.warm_up_every_batch else 0)


@dataclasses.dataclass
class Measurement:
    seconds_per_step: list[float]  # one sample per burst
    first_step_seconds: list[float]  # one sample per fresh build
    first_loss: float
    steps_per_round: int
    compiled_while_timed: int | None = None  # programs compiled during the bursts, where counted

    @property
    def step(self) -> float:
        return low_percentile(self.seconds_per_step)

    @property
    def first_step(self) -> float:
        return float(np.median(self.first_step_seconds))

    @property
    def spread(self) -> float:
        return relative_spread(self.seconds_per_step)


@dataclasses.dataclass
class WorkloadResult:
    workload: Workload
    measurements: dict[str, Measurement]  # by contender key
    skipped: dict[str, str]  # contender key -> why it did not run
    reference: Measurement | None = None  # the big matmul, where measured
    reference_size: int = 0  # its matrices' side

    @property
    def reference_flops(self) -> float:
        return 2.0 * self.reference_size**3


def matmul_runner(size: int):
    """A jitted `size x size` float32 matrix product: the machine's best case for the
    arithmetic that dominates an MLP's training step."""
    import jax
    import jax.numpy as jnp

    keys = jax.random.split(jax.random.key(0))
    a, b = (jax.random.normal(key, (size, size), jnp.float32) for key in keys)
    product = jax.jit(jnp.matmul)

    def run(steps: int) -> tuple[int, float]:
        for _ in range(steps):
            out = product(a, b)
        out.block_until_ready()
        return steps, 0.0

    return run


def _first_steps(workload: Workload, contenders: list[Contender], repeats: int, skipped: dict[str, str]):
    """Times the first step of `repeats` fresh builds of each contender, in an order that
    rotates from one repeat to the next; returns the samples, first losses and last builds."""
    first: dict[str, list[float]] = {}
    losses: dict[str, float] = {}
    runners = {}
    for repeat in range(repeats if contenders else 0):
        order = contenders[repeat % len(contenders):] + contenders[:repeat % len(contenders)]
        for contender in order:
            if contender.key in skipped:
                continue
            runner = contender.build(workload)
            start = time.perf_counter()
            _, loss = runner(1)
            first.setdefault(contender.key, []).append(time.perf_counter() - start)
            losses.setdefault(contender.key, loss)
            runners[contender.key] = runner
    return first, losses, runners


def measure_workload(workload: Workload, contenders: list[Contender], settings: Settings, *,
                     with_matmul: bool = False, log=print) -> WorkloadResult:
    """Measures every installed contender that has a version of `workload` (the others are
    listed in `skipped` with the reason); `with_matmul` adds the reference matrix product."""
    skipped = {c.key: "not installed (" + ", ".join(c.missing()) + ")" for c in contenders if c.missing()}
    skipped.update({c.key: "n/a" for c in contenders if workload.kind not in c.kinds and c.key not in skipped})
    log(f"{workload.title}: first steps of {settings.first_step_repeats} fresh builds each")
    first, losses, runners = _first_steps(workload, contenders, settings.first_step_repeats, skipped)
    if with_matmul:
        runners["matmul"] = matmul_runner(settings.matmul_size)
    for run in runners.values():
        run(warmup_steps(workload, settings))
        run_for(run, settings.warmup_seconds)
    steps = {key: steps_per_round(run, settings.burst_seconds) for key, run in runners.items()}
    log(f"{workload.title}: {settings.bursts} interleaved bursts of {len(runners)} runners")
    counters = {key: getattr(run, "programs_compiled", lambda: None) for key, run in runners.items()}
    compiled_before = {key: count() for key, count in counters.items()}
    samples = interleaved_samples(runners, steps, rounds=settings.bursts)
    compiled = {key: None if compiled_before[key] is None else count() - compiled_before[key] for key, count in counters.items()}
    measurements = {
        key: Measurement(samples[key], first[key], losses[key], steps[key], compiled[key]) for key in runners if key != "matmul"
    }
    result = WorkloadResult(workload, measurements, skipped)
    if with_matmul:
        result.reference = Measurement(samples["matmul"], [], 0.0, steps["matmul"])
        result.reference_size = settings.matmul_size
    return result


def step_seconds(workload_keys: list[str], contender_keys: list[str]) -> list[tuple[str, list[float]]]:
    """For each workload, its title and the seconds per step (the bursts' 10th percentile) of
    each contender (in the order given), measured with the default settings; progress goes to
    stderr."""
    contenders = [next(c for c in CONTENDERS if c.key == key) for key in contender_keys]
    log = lambda text: print(text, file=sys.stderr, flush=True)
    rows = []
    for key in workload_keys:
        result = measure_workload(make_workload(key), contenders, Settings(), log=log)
        rows.append((result.workload.title, [result.measurements[c.key].step for c in contenders]))
    return rows
