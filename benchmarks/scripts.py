"""Whole-process wall time of learner-style scripts under PyTorch and under nablax.stateful.

    python -m benchmarks.scripts                               # every script, 3 rounds
    python -m benchmarks.scripts --scripts micrograd_demo.py --rounds 1

Each script runs in a fresh Python process, as a learner runs it: `python script.py` under
PyTorch, `python -m nablax.stateful.as_torch script.py` under nablax, both on the CPU, in an
empty working directory. Within a round the two frameworks run back to back, and which goes
first alternates from round to round, so that load elsewhere on the machine hits both alike;
each round's nablax/PyTorch ratio is one paired sample. Reported:

1. per script: the median wall time under each framework with its spread (interquartile
   range over median), and the median of the paired ratios; then the median ratio over the
   scripts and the worst. A script that fails under nablax is reported as failing, not timed.
2. where nablax's time goes, from one more run of each script with a probe in the process:
   importing `nablax.stateful`, compiling (JAX's tracing, lowering and XLA compilation, summed
   from `jax.monitoring`'s duration events, with the count of XLA compilations), and the rest
   (starting Python, the script's other imports, running it).
3. nablax's persistent compilation cache (on by default; off in the timed rounds above, so
   that they are first runs): a first run with a fresh cache directory
   (`NABLAX_COMPILATION_CACHE=<dir>`) and a second run with the same one.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from .machine import load_average, package_version
from .timing import markdown_table, relative_spread

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# The notes' scripts, then one learner program of each kind: a micrograd-style demo, a
# bigram-count model, a digits CNN tutorial and a from-scratch softmax regression.
LEARNER_SCRIPTS = ["micrograd_demo.py", "makemore_bigrams.py", "mnist_example.py", "d2l_softmax_regression_scratch.py"]
FRAMEWORKS = ("torch", "nablax")
# jax.monitoring's duration events of compiling one program: tracing to a jaxpr, lowering
# to MLIR, and XLA's compilation (the only one a persistent cache hit skips).
COMPILE_EVENTS = {
    "/jax/core/compile/jaxpr_trace_duration": "trace",
    "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower",
    "/jax/core/compile/backend_compile_duration": "xla",
}
CACHE_HIT_EVENT = "/jax/compilation_cache/cache_hits"
# The timed rounds are first runs: nablax's persistent compilation cache (on by default)
# is off for them, and measured on its own (a fresh directory, then the same one again).
COLD = {"NABLAX_COMPILATION_CACHE": "0"}


def default_scripts() -> list[pathlib.Path]:
    return sorted((EXAMPLES / "notes").glob("*.py")) + [EXAMPLES / "learners" / name for name in LEARNER_SCRIPTS]


# ---------------------------------------------------------------------------------------
# Running one script in a fresh process
# ---------------------------------------------------------------------------------------


@dataclass
class Run:
    """One process: its wall time, exit status, the end of its stderr, and what the probe
    measured inside it (empty without the probe)."""

    seconds: float
    status: int
    error: str
    probe: dict = field(default_factory=dict)


def command(framework: str, script: pathlib.Path, probe_file: str | None = None) -> list[str]:
    if framework == "torch":
        return [sys.executable, str(script)]
    if probe_file is None:
        return [sys.executable, "-m", "nablax.stateful.as_torch", str(script)]
    return [sys.executable, "-m", "benchmarks.scripts", "--probe", probe_file, str(script)]


def run_once(framework: str, script: pathlib.Path, timeout_s: float, *, probe: bool = False,
             extra_env: dict | None = None) -> Run:
    """Runs `script` under `framework` in a fresh process and an empty working directory; one
    that runs past `timeout_s` is stopped and counts as failed."""
    env = dict(os.environ, JAX_PLATFORMS="cpu", **(extra_env or {}))
    # benchmarks/ must be importable for the probe, whatever the working directory.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="scripts-bench-") as workdir:
        probe_file = os.path.join(workdir, "probe.json") if probe else None
        start = time.perf_counter()
        try:
            completed = subprocess.run(command(framework, script, probe_file), cwd=workdir, env=env,
                                       capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            return Run(time.perf_counter() - start, -1, f"stopped after {timeout_s:.0f} s")
        seconds = time.perf_counter() - start
        measured = json.loads(pathlib.Path(probe_file).read_text()) if probe and completed.returncode == 0 else {}
    last_lines = completed.stderr.strip().splitlines()[-1:] or [""]
    return Run(seconds, completed.returncode, last_lines[0], measured)


def probe_main(probe_file: str, argv: list[str]) -> None:
    """Runs a script as `python -m nablax.stateful.as_torch` does and writes to `probe_file`
    how long importing nablax.stateful took and how long JAX spent compiling."""
    start = time.perf_counter()
    # Imported here, not at the top: these imports are what the probe times.
    import jax.monitoring

    compile_seconds = {name: 0.0 for name in COMPILE_EVENTS.values()}
    counts = {"xla_compiles": 0, "cache_hits": 0}

    def on_duration(event: str, duration: float, **kwargs) -> None:
        if event in COMPILE_EVENTS:
            compile_seconds[COMPILE_EVENTS[event]] += duration
            counts["xla_compiles"] += event.endswith("backend_compile_duration")

    def on_event(event: str, **kwargs) -> None:
        counts["cache_hits"] += event == CACHE_HIT_EVENT

    jax.monitoring.register_event_duration_secs_listener(on_duration)
    jax.monitoring.register_event_listener(on_event)
    from nablax.stateful import as_torch

    imported = time.perf_counter()
    try:
        as_torch.main(argv)
    finally:
        measured = {"import_s": imported - start, "in_process_s": time.perf_counter() - start,
                    "compile_s": sum(compile_seconds.values()), **compile_seconds, **counts}
        pathlib.Path(probe_file).write_text(json.dumps(measured))


# ---------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------


@dataclass
class ScriptResult:
    """Every measured run of one script."""

    name: str
    times: dict[str, list[float]] = field(default_factory=lambda: {framework: [] for framework in FRAMEWORKS})
    failure: str | None = None  # why a framework could not run it
    breakdown: Run | None = None
    cache_runs: list[Run] = field(default_factory=list)

    def ratios(self) -> list[float]:
        return [n / t for t, n in zip(self.times["torch"], self.times["nablax"])]


def measure_script(script: pathlib.Path, rounds: int, timeout_s: float, *, cache: bool, log) -> ScriptResult:
    result = ScriptResult(script.name)
    for round_index in range(rounds):
        order = FRAMEWORKS if round_index % 2 == 0 else FRAMEWORKS[::-1]
        for framework in order:
            run = run_once(framework, script, timeout_s, extra_env=COLD)
            if run.status != 0:
                result.failure = f"fails under {framework} (exit {run.status}): {run.error}"
                log(f"  {script.name}: {result.failure}")
                return result
            result.times[framework].append(run.seconds)
        log(f"  {script.name} round {round_index + 1}: torch {result.times['torch'][-1]:.2f} s, "
            f"nablax {result.times['nablax'][-1]:.2f} s")
    result.breakdown = run_once("nablax", script, timeout_s, probe=True, extra_env=COLD)
    if cache:
        with tempfile.TemporaryDirectory(prefix="nablax-cache-") as cache_dir:
            settings = {"NABLAX_COMPILATION_CACHE": cache_dir}
            result.cache_runs = [run_once("nablax", script, timeout_s, probe=True, extra_env=settings) for _ in range(2)]
    return result


# ---------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------


def timing_rows(results: list[ScriptResult]) -> list[list[str]]:
    rows = []
    for result in results:
        if result.failure:
            rows.append([result.name, result.failure, "", "", "", ""])
            continue
        cells = [result.name]
        for framework in FRAMEWORKS:
            samples = result.times[framework]
            cells += [f"{np.median(samples):.2f}", f"{relative_spread(samples):.0%}"]
        cells.append(f"{np.median(result.ratios()):.2f}")
        rows.append(cells)
    return rows


def summary_line(results: list[ScriptResult]) -> str:
    ratios = {result.name: float(np.median(result.ratios())) for result in results if not result.failure}
    failing = [result.name for result in results if result.failure]
    if not ratios:
        return f"no script ran under both frameworks; failing: {', '.join(failing)}"
    worst = max(ratios, key=ratios.get)
    text = (f"median nablax/PyTorch ratio over {len(ratios)} scripts: {np.median(list(ratios.values())):.2f}; "
            f"worst: {ratios[worst]:.2f} ({worst})")
    return text + (f"; failing under a framework: {', '.join(failing)}" if failing else "")


def breakdown_rows(results: list[ScriptResult]) -> list[list[str]]:
    rows = []
    for result in results:
        run = result.breakdown
        if run is None or not run.probe:
            continue
        probe = run.probe
        rest = run.seconds - probe["import_s"] - probe["compile_s"]
        rows.append([result.name, f"{run.seconds:.2f}", f"{probe['import_s']:.2f}", f"{probe['compile_s']:.2f}",
                     f"{probe['trace']:.2f} / {probe['lower']:.2f} / {probe['xla']:.2f}",
                     str(probe["xla_compiles"]), f"{rest:.2f}"])
    return rows


def cache_rows(results: list[ScriptResult]) -> list[list[str]]:
    rows = []
    for result in results:
        if len(result.cache_runs) != 2 or not all(run.probe for run in result.cache_runs):
            continue
        first, second = result.cache_runs
        rows.append([result.name, f"{first.seconds:.2f}", f"{first.probe['compile_s']:.2f}",
                     f"{second.seconds:.2f}", f"{second.probe['compile_s']:.2f}", str(second.probe["cache_hits"]),
                     f"{second.seconds / first.seconds:.2f}"])
    return rows


def report(results: list[ScriptResult], rounds: int) -> str:
    lines = [f"PyTorch {package_version('torch')}, jax {package_version('jax')}, CPU; {rounds} rounds, frameworks alternating; "
             f"load average at the end: {load_average()}", "",
             markdown_table(["script", "PyTorch (s)", "spread", "nablax (s)", "spread", "nablax / PyTorch"],
                            timing_rows(results)),
             "", summary_line(results), "", "Where nablax's time goes (one probed run each):", "",
             markdown_table(["script", "wall (s)", "import nablax (s)", "compile (s)", "trace / lower / XLA (s)",
                             "XLA compiles", "rest (s)"], breakdown_rows(results))]
    cached = cache_rows(results)
    if cached:
        lines += ["", "Persistent compilation cache (NABLAX_COMPILATION_CACHE=<fresh directory>, first and second run):", "",
                  markdown_table(["script", "first run (s)", "its compile (s)", "second run (s)", "its compile (s)",
                                  "cache hits", "second / first"], cached)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--probe"]:
        probe_main(argv[1], argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scripts", help="comma-separated file names, from " +
                        ", ".join(path.name for path in default_scripts()))
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per script")
    parser.add_argument("--no-cache", action="store_true", help="skip the persistent-cache runs")
    parser.add_argument("--timeout", type=float, default=300, help="seconds after which a run is stopped as failed")
    args = parser.parse_args(argv)
    scripts = default_scripts()
    if args.scripts:
        by_name = {path.name: path for path in scripts}
        unknown = [name for name in args.scripts.split(",") if name not in by_name]
        if unknown:
            parser.error(f"unknown scripts {', '.join(unknown)}; choose from {', '.join(by_name)}")
        scripts = [by_name[name] for name in args.scripts.split(",")]

    def log(text):
        print(text, file=sys.stderr, flush=True)

    results = [measure_script(script, args.rounds, args.timeout, cache=not args.no_cache, log=log) for script in scripts]
    print(report(results, args.rounds))


if __name__ == "__main__":
    main()
