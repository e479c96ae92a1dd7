"""The side-by-side benchmark suite runs end to end with tiny settings and writes its report.

No timings are checked here: only that every workload and contender runs, that missing
frameworks are reported rather than fatal, and that the report has all its parts.
"""

import importlib.util
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture
def suite(monkeypatch):
    """The `benchmarks` package, importable from the repository root."""
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks import run, workloads

    return run, workloads


def report_rows(text: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in text.splitlines() if line.startswith("|")]


def test_quick_run_writes_every_workload_and_every_target(suite, tmp_path):
    output = tmp_path / "results.md"
    completed = subprocess.run(
        # PyTorch alone compiles nothing, which keeps this run short; without torch every
        # cell reads "not installed" and the report must still have all its rows.
        [sys.executable, "-m", "benchmarks.run", "--quick", "--contenders", "torch", "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    text = output.read_text()
    from benchmarks.targets import TARGETS
    from benchmarks.workloads import WORKLOAD_KEYS, make_workload

    titles = [make_workload(key, quick=True).title for key in WORKLOAD_KEYS]
    step_table = text.split("## Time per training step")[1].split("##")[0]
    assert [row[0] for row in report_rows(step_table)[2:]] == titles
    for section in ("## Machine", "## First step", "## Share of the machine's matmul throughput", "## Targets", "## Noise"):
        assert section in text
    targets = text.split("## Targets")[1]
    for target in TARGETS:
        assert target.description in targets
    assert "not measured" in targets  # only PyTorch ran
    assert "Targets (ratios from this run):" in completed.stdout


def test_every_contender_runs_and_missing_frameworks_are_reported(suite, tmp_path, monkeypatch):
    run, _ = suite
    monkeypatch.setitem(sys.modules, "flax", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "equinox", None)
    output = tmp_path / "results.md"
    assert run.main(["--quick", "--workloads", "linreg", "--output", str(output)]) == 0
    text = output.read_text()
    header, _, row = report_rows(text.split("## Time per training step")[1].split("##")[0])
    cells = dict(zip(header, row))
    assert cells["Flax NNX `nnx.jit`"] == "not installed (flax)"
    assert cells["Equinox `filter_jit`"] == "not installed (equinox)"
    ran = ["JAX `jit`", "JAX `lax.scan` epoch", "nablax step", "nablax `fit`", "nablax.stateful"]
    if importlib.util.find_spec("torch") is not None:
        ran += ["PyTorch eager", "PyTorch eager, 1 thread"]
    for title in ran:
        assert float(cells[title]) > 0, title
    verdicts = {row[0]: row[3] for row in report_rows(text.split("## Targets")[1].split("##")[0])[2:]}
    assert verdicts["nablax step / JAX `jit` step, first-step latency, linear regression"] in ("MET", "MISSED")
    assert verdicts["nablax step / Flax `nnx.jit` step, tiny MLP"].startswith("not measured")


@pytest.mark.skipif(not all(importlib.util.find_spec(name) for name in ("flax", "equinox")),
                    reason="Flax and Equinox are in the `bench` extra")
def test_flax_and_equinox_contenders_run(suite, tmp_path):
    run, _ = suite
    output = tmp_path / "results.md"
    assert run.main(["--quick", "--workloads", "linreg", "--contenders", "nnx,nnx-cached,equinox",
                     "--output", str(output)]) == 0
    header, _, row = report_rows(output.read_text().split("## Time per training step")[1].split("##")[0])
    assert all(float(cell) > 0 for cell in row[1:]), dict(zip(header, row))


def test_step_overhead_times_every_version_of_the_step(suite, capsys):
    from benchmarks import step_overhead

    step_overhead.main(["--workloads", "tiny", "--bursts", "2", "--burst-seconds", "0.0005"])
    rows = report_rows(capsys.readouterr().out)[2:]
    assert [row[1] for row in rows] == step_overhead.VERSIONS
    assert rows[0][4] == "1.000" and all(float(row[2]) > 0 for row in rows)
    with pytest.raises(SystemExit):
        step_overhead.main(["--workloads", "cnn"])


def test_scripts_times_a_script_under_both_frameworks(suite, capsys):
    """One notes script, one round: timed under both frameworks, nablax's time broken down,
    and the persistent compilation cache hit on the second run."""
    from benchmarks import scripts

    scripts.main(["--scripts", "gradient_accumulation.py", "--rounds", "1"])
    text = capsys.readouterr().out
    timing, breakdown, cache = (report_rows(part) for part in text.split("\n\n") if part.startswith("|"))
    assert timing[2][0] == "gradient_accumulation.py" and all(float(cell) > 0 for cell in timing[2][1:6:2]), timing
    assert "median nablax/PyTorch ratio over 1 scripts" in text
    name, wall, imported, compiled, _, compiles, rest = breakdown[2]
    assert float(wall) > float(imported) > 0 and float(compiled) > 0 and int(compiles) > 0, breakdown
    assert int(cache[2][5]) > 0, cache  # the second run found programs in the cache
    with pytest.raises(SystemExit):
        scripts.main(["--scripts", "no_such_script.py"])


def test_notes_loop_runs_the_notes_code_under_both_frameworks(torch, capsys):
    """The notes' loop as written trains `w` to the same value under both frameworks, and the
    benchmark prints both frameworks' figures and their ratio."""
    from benchmarks import notes_loop

    import nablax.stateful as nxt

    loops = [notes_loop.NotesLoop(framework) for framework in (torch, nxt)]
    for loop in loops:
        loop.run(100)
    assert abs(float(loops[0].namespace["w"]) - float(loops[1].namespace["w"])) < 1e-6
    notes_loop.main(["--bursts", "2", "--burst-seconds", "0.001"])
    text = capsys.readouterr().out
    rows = report_rows(text.split("\n\n")[0])
    assert [row[0] for row in rows[2:]] == ["PyTorch", "nablax.stateful"] and all(float(row[1]) > 0 for row in rows[2:])
    assert "nablax.stateful / PyTorch: " in text
