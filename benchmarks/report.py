"""The Markdown report of a run: the machine, the time per step of every contender on every
workload, nablax's ratios against each contender, first-step latencies, the large MLP's
share of the machine's matmul throughput, the targets, and how noisy the bursts were."""

from __future__ import annotations

import numpy as np

from .contenders import Contender
from .measure import Settings, WorkloadResult
from .targets import TARGETS
from .timing import markdown_table

NABLAX_FACES = ["nablax", "nablax-fit", "nablax-stateful"]
METHOD = [
    "- Every contender starts from the same parameters (PyTorch's default initialisation, drawn once "
    "with NumPy and converted to each framework's layout) and trains on the same batches: stepping "
    "contenders cycle through one epoch's batches in order, fused ones shuffle each epoch.",
    "- Every step computes the loss; a timed run waits once, at its end, by fetching the last loss to "
    "the host. Before timing, each contender has compiled, run a few warm-up steps and then run for at "
    "least half a second (nablax.stateful compiles a program again, optimized, once its runs add up to "
    "a quarter of a second).",
    "- The process runs with `jax_enable_x64` on (importing `nablax.stateful` turns it on); parameters "
    "and data are float32, so every JAX contender computes in float32.",
    "- Hand-written JAX and nablax donate their state's buffers to the step; Flax NNX and Equinox run "
    "as their guides write a training step. PyTorch runs eagerly on the CPU with its default number of "
    "threads (the contender the targets name) and again with one thread, because on a busy two-core "
    "machine its default thread pool can wait at every operation for a thread that another process holds.",
    "- The first step is timed on fresh builds (nothing compiled for them yet), in an order that rotates "
    "from build to build; JAX's own caches are warm by then, as in any process that has compiled before.",
    "- Loops over single elements, whole learner scripts and the notes' loop exactly as written are "
    "measured by their own scripts (`benchmarks/element_loops.py`, `scripts.py`, `notes_loop.py`); "
    "their figures are in `benchmarks/LEARNERS.md`.",
]


def _cell(result: WorkloadResult, key: str, format_value) -> str:
    """A contender's figure on a workload, or why there is none."""
    if key in result.measurements:
        return format_value(result.measurements[key])
    return result.skipped.get(key, "not run")


def _per_contender_table(results, contenders, format_value) -> str:
    rows = [[r.workload.title] + [_cell(r, c.key, format_value) for c in contenders] for r in results]
    return markdown_table(["workload"] + [c.title for c in contenders], rows)


def _ratio_table(results, contenders, face: str) -> str:
    others = [c for c in contenders if c.key != face]
    rows = []
    for result in results:
        mine = result.measurements.get(face)
        row = [result.workload.title]
        for other in others:
            theirs = result.measurements.get(other.key)
            row.append(f"{mine.step / theirs.step:.2f}" if mine and theirs else "-")
        rows.append(row)
    return markdown_table(["workload"] + [c.title for c in others], rows)


def _throughput_section(results, contenders) -> list[str]:
    lines = []
    for result in results:
        if result.reference is None:
            continue
        reference_rate = result.reference_flops / result.reference.step
        step_flops = result.workload.matmul_flops_per_step()
        lines += [
            f"### {result.workload.title}",
            "",
            f"Reference: a jitted {result.reference_size}x{result.reference_size} float32 matrix product, timed in "
            f"the same bursts: "
            f"{result.reference.step * 1e3:.1f} ms, {reference_rate / 1e9:.1f} GFLOP/s. A training step's matrix "
            f"products (forward, weight gradients, input gradients of the hidden layers) come to "
            f"{step_flops / 1e6:.0f} MFLOP.",
            "",
        ]
        rows = []
        for contender in contenders:
            measurement = result.measurements.get(contender.key)
            if measurement is None:
                continue
            rate = step_flops / measurement.step
            rows.append([contender.title, f"{measurement.step * 1e6:.1f}", f"{rate / 1e9:.1f}", f"{rate / reference_rate:.0%}"])
        lines += [markdown_table(["contender", "us/step", "GFLOP/s in matmuls", "share of the big matmul's"], rows), ""]
    return lines


def _loss_agreement(results) -> list[str]:
    """First-step losses of the contenders that step from the same parameters on the same first
    batch (the fused ones start on a shuffled batch): a check that all do the same work."""
    rows = []
    for result in results:
        losses = {key: m.first_loss for key, m in result.measurements.items() if key not in ("jax-scan", "nablax-fit")}
        if not losses:
            continue
        values = np.array(list(losses.values()))
        deviation = float(np.max(np.abs(values - np.median(values))) / max(abs(float(np.median(values))), 1e-12))
        note = " (dropout masks differ between frameworks)" if result.workload.kind == "cnn" else ""
        rows.append([result.workload.title, f"{np.median(values):.6g}", f"{deviation:.1e}{note}"])
    return [markdown_table(["workload", "median first-step loss", "largest relative deviation"], rows)]


def _compiled_while_timed(results, titles) -> list[str]:
    """A warning for each contender that kept compiling while it was timed: its time per step
    then includes compilations, not the steady state."""
    lines = []
    for result in results:
        for key, measurement in result.measurements.items():
            if measurement.compiled_while_timed:
                count = measurement.compiled_while_timed
                lines.append(f"- {titles[key]}, {result.workload.title}: {count} program{'s' if count > 1 else ''} "
                             f"compiled during the timed bursts ({measurement.steps_per_round} step{'s' if measurement.steps_per_round > 1 else ''} per burst); "
                             f"its time per step includes {'them' if count > 1 else 'it'}.")
    return lines


def target_lines(results: dict[str, WorkloadResult]) -> list[tuple[str, str, str, str, str]]:
    """`(description, ratio, threshold, verdict, spread)` for every target."""
    lines = []
    for target in TARGETS:
        ratio, spread, verdict = target.evaluate(results)
        lines.append((target.description, "-" if ratio is None else f"{ratio:.3f}", f"<= {target.threshold:.3g}", verdict,
                      "-" if spread is None else f"{spread:.0%}"))
    return lines


def render(results: list[WorkloadResult], contenders: list[Contender], machine: dict[str, str], settings: Settings,
           *, date: str, command: str, load_before: str, load_after: str) -> str:
    by_key = {result.workload.key: result for result in results}
    targets = target_lines(by_key)
    faces = [face for face in NABLAX_FACES if any(face in r.measurements for r in results)]
    titles = {c.key: c.title for c in contenders}
    lines = [
        "# Side-by-side benchmarks",
        "",
        f"Written by `{command}` on {date}. All contenders ran in one process, on the same data "
        f"and from the same initial parameters, in {settings.bursts} interleaved bursts of about "
        f"{settings.burst_seconds * 1e3:.0f} ms each (the order rotating from burst to burst); each "
        f"time per step is the 10th percentile of its bursts (noise only adds time, and a low percentile "
        f"of many short bursts is what it disturbs least), so a ratio compares contenders under the same load.",
        "",
        "## Machine",
        "",
        markdown_table(["", ""], [[name, value] for name, value in machine.items()]),
        "",
        f"Load average (1, 5, 15 min) before the run: {load_before}; after: {load_after}. The machine is "
        f"shared: other jobs ran alongside, so absolute times wander from run to run; the ratios, taken "
        f"within bursts, are steadier (see the spreads at the end).",
        "",
        "## Time per training step (us, 10th percentile of bursts)",
        "",
        _per_contender_table(results, contenders, lambda m: f"{m.step * 1e6:.1f}"),
        "",
        "Fused contenders (`lax.scan` epoch, `fit`) shuffle the data and run whole epochs as one "
        "compiled program; their time per step includes the shuffle. The others step through "
        "prepared batches one call at a time.",
        "",
    ]
    warnings = _compiled_while_timed(results, titles)
    lines += warnings + [""] if warnings else []
    lines += [
        "## nablax against each contender (ratio of times per step; below 1, nablax is faster)",
        "",
    ]
    for face in faces:
        lines += [f"### {titles[face]} / contender", "", _ratio_table(results, contenders, face), ""]
    lines += [
        f"## First step (ms, median of {settings.first_step_repeats} fresh builds)",
        "",
        "Tracing, compilation and the first step, until its loss is on the host. For fused "
        "contenders this is the whole first epoch; PyTorch compiles nothing.",
        "",
        _per_contender_table(results, contenders, lambda m: f"{m.first_step * 1e3:.1f}"),
        "",
    ]
    throughput = _throughput_section(results, contenders)
    if throughput:
        lines += ["## Share of the machine's matmul throughput", ""] + throughput
    lines += [
        "## Targets",
        "",
        markdown_table(["target", "ratio", "threshold", "verdict", "spread"], [list(line) for line in targets]),
        "",
        "The spread is the larger interquartile range, relative to the median, of the two figures' "
        "samples (bursts, or fresh builds for first steps): a ratio near its threshold with a wide spread "
        "could land on either side in another run.",
        "",
        "## Noise: spread of the bursts (interquartile range / median)",
        "",
        _per_contender_table(results, contenders, lambda m: f"{m.spread:.0%}"),
        "",
        "## Check: the same work",
        "",
        *_loss_agreement(results),
        "",
        "## How it was measured",
        "",
        *METHOD,
        "",
    ]
    return "\n".join(lines)
