"""Loops over single elements, cold: nablax.stateful against PyTorch.

    python -m benchmarks.element_loops [--rounds 5]

What learners write after the notes: reading elements one by one
(`sum(s[i].item() for i in range(1000))`) and counting into a table (makemore's
`N[i, j] += 1`, 1,000 times on a 27 x 27 int32 tensor). Each measurement is a fresh
process that times its first pass, compiles included (cold), then a second pass (warm);
the frameworks alternate, round after round, and the medians are compared.
Target: nablax / PyTorch at most 3 cold.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

from .timing import markdown_table

LOOPS = {
    "reads": (
        "s = torch.arange(1000.) * 0.5",
        "total = sum(s[i].item() for i in range(1000))",
    ),
    "writes": (
        "import random; rng = random.Random(0); pairs = [(rng.randrange(27), rng.randrange(27)) for _ in range(1000)]; "
        "N = torch.zeros((27, 27), dtype=torch.int32)",
        "for i, j in pairs:\n        N[i, j] += 1\n    total = N[3, 4].item()",
    ),
}

PROGRAM = """
import json, time
{imports}
{setup}
times = []
for _ in range(2):
    start = time.perf_counter()
    {loop}
    times.append(time.perf_counter() - start)
print(json.dumps(times))
"""

IMPORTS = {"torch": "import torch; torch.set_num_threads(1)", "nablax": "import nablax.stateful as torch"}


def measure(framework: str, loop: str) -> tuple[float, float]:
    """(cold, warm) seconds of one loop, in a fresh process."""
    setup, body = LOOPS[loop]
    source = PROGRAM.format(imports=IMPORTS[framework], setup=setup, loop=body)
    # A first pass compiles what it needs: nablax's persistent compilation cache stays off.
    environment = dict(os.environ, NABLAX_COMPILATION_CACHE="0")
    output = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, check=True,
                            env=environment).stdout
    cold, warm = json.loads(output.strip().splitlines()[-1])
    return cold, warm


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="fresh processes per framework and loop")
    parser.add_argument("--loops", default=",".join(LOOPS), help="which loops (comma-separated)")
    args = parser.parse_args(argv)
    rows = []
    for loop in args.loops.split(","):
        samples: dict[str, list[tuple[float, float]]] = {"torch": [], "nablax": []}
        for round_index in range(args.rounds):
            order = ["torch", "nablax"] if round_index % 2 == 0 else ["nablax", "torch"]
            for framework in order:
                samples[framework].append(measure(framework, loop))
        medians = {name: np.median(np.array(values), axis=0) for name, values in samples.items()}
        (torch_cold, torch_warm), (ours_cold, ours_warm) = medians["torch"], medians["nablax"]
        rows.append([loop, f"{torch_cold * 1e3:.2f}", f"{ours_cold * 1e3:.2f}", f"{ours_cold / torch_cold:.2f}",
                     f"{torch_warm * 1e3:.2f}", f"{ours_warm * 1e3:.2f}", f"{ours_warm / torch_warm:.2f}"])
    print(f"1,000 single-element reads or writes, medians of {args.rounds} fresh processes each (PyTorch with 1 thread)")
    print(markdown_table(["loop", "PyTorch cold (ms)", "nablax cold (ms)", "cold ratio", "PyTorch warm (ms)",
                          "nablax warm (ms)", "warm ratio"], rows))


if __name__ == "__main__":
    main()
