"""nablax side by side with what users would otherwise pick, in one run on the same data.

    python -m benchmarks.run                      # the full suite, writes benchmarks/RESULTS.md
    python -m benchmarks.run --quick --output /tmp/results.md

Workloads: MLP classifiers at three sizes, the notes' linear-regression loop, the digits
CNN of examples/digits_cnn.py and the character-level GPT of examples/gpt.py (`--workloads
gpt` runs it alone). Contenders: hand-written JAX + optax (`jax.jit` step and
`lax.scan` epoch), PyTorch eager, Flax NNX (`nnx.jit`, `nnx.cached_partial`), Equinox
(`eqx.filter_jit`), and nablax (jitted step, `fit` with fused epochs, `nablax.stateful`).
A contender whose framework is not installed is reported as such. Install them all with
`pip install -e ".[bench]"`.

Prints the targets with MET / MISSED and writes a Markdown report with the machine's
description.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import pathlib
import sys

# The stateful face turns on jax_enable_x64 for the whole process when imported; import it
# before anything is built so that every contender runs under the same configuration (all
# of them keep float32 arithmetic: their parameters and data are float32).
import nablax.stateful  # noqa: F401

from . import machine
from .contenders import CONTENDER_KEYS, CONTENDERS
from .measure import QUICK, Settings, measure_workload
from .report import render, target_lines
from .workloads import GPU_MLP_SIZES, WORKLOAD_KEYS, make_workload

DEFAULT_OUTPUT = pathlib.Path(__file__).resolve().parent / "RESULTS.md"
# Workloads whose time per step is compared with the machine's matmul throughput.
THROUGHPUT_WORKLOADS = {"large", *GPU_MLP_SIZES}


def _choice_list(allowed: list[str]):
    def parse(text: str) -> list[str]:
        chosen = [item.strip() for item in text.split(",") if item.strip()]
        unknown = [item for item in chosen if item not in allowed]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown {unknown}; choose from {', '.join(allowed)}")
        return chosen

    return parse


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: one build, two short bursts, a small matmul, a tiny GPT")
    parser.add_argument("--output", type=pathlib.Path, default=DEFAULT_OUTPUT, help="where to write the Markdown report")
    parser.add_argument("--workloads", type=_choice_list(WORKLOAD_KEYS + list(GPU_MLP_SIZES)), default=WORKLOAD_KEYS,
                        help=f"comma-separated, from {', '.join(WORKLOAD_KEYS)}")
    parser.add_argument("--contenders", type=_choice_list(CONTENDER_KEYS), default=CONTENDER_KEYS,
                        help=f"comma-separated, from {', '.join(CONTENDER_KEYS)}")
    parser.add_argument("--gpu-sizes", action="store_true",
                        help=f"add the MLPs sized for an accelerator ({', '.join(GPU_MLP_SIZES)})")
    parser.add_argument("--bursts", type=int, help="interleaved bursts per workload")
    parser.add_argument("--burst-seconds", type=float, help="time each contender runs per burst")
    args = parser.parse_args(argv)
    if args.gpu_sizes:
        args.workloads = [key for key in args.workloads if key not in GPU_MLP_SIZES] + list(GPU_MLP_SIZES)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = QUICK if args.quick else Settings()
    if args.bursts or args.burst_seconds:
        settings = dataclasses.replace(settings, bursts=args.bursts or settings.bursts,
                                       burst_seconds=args.burst_seconds or settings.burst_seconds)
    contenders = [contender for contender in CONTENDERS if contender.key in args.contenders]
    load_before = machine.load_average()
    log = lambda text: print(text, file=sys.stderr, flush=True)
    results = []
    for key in args.workloads:
        results.append(measure_workload(make_workload(key, quick=args.quick), contenders, settings,
                                        with_matmul=key in THROUGHPUT_WORKLOADS, log=log))
    command = "python -m benchmarks.run" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
    report = render(results, contenders, machine.describe(), settings,
                    date=datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
                    command=command.strip(), load_before=load_before, load_after=machine.load_average())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)
    print("Targets (ratios from this run):")
    for description, ratio, threshold, verdict, spread in target_lines({r.workload.key: r for r in results}):
        verdict, _, why = verdict.partition(": ")
        print(f"  {verdict:<12} {ratio:>7}  {threshold:<8} {description}" + (f" ({why})" if why else f", spread {spread}"))
    print(f"report written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
