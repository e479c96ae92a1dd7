"""The README's first command: the digits demo trains one MLP in three styles to the same
numbers, reaches 95% test accuracy, and draws the loss curves."""

import re
import subprocess
import sys


def test_demo_trains_digits_three_ways_to_95_percent(tmp_path):
    plot = tmp_path / "curves" / "losses.png"
    result = subprocess.run([sys.executable, "-m", "nablax.demo", "--plot", str(plot)],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # Every epoch's mean loss, the same in the three styles' columns.
    epochs = re.findall(r"^\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", out, re.MULTILINE)
    assert [int(e[0]) for e in epochs] == list(range(1, 21))
    assert all(e[1] == e[2] == e[3] for e in epochs)
    assert float(epochs[-1][1]) < float(epochs[0][1]) / 10
    # The table: one row per style, each with its accuracy and time per step.
    rows = re.findall(r"^\| (nablax\.stateful|functional)[^|]*\|\s+([\d.]+)% \|.*\|\s+([\d.]+) us \|", out, re.MULTILINE)
    assert len(rows) == 3
    assert all(float(accuracy) >= 95.0 for _, accuracy, _ in rows)
    gap = float(re.search(r"at the same step: ([\d.e+-]+)", out).group(1))
    assert gap <= 1e-5
    assert f"loss curves: {plot}" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_can_leave_the_plot_out(tmp_path):
    result = subprocess.run([sys.executable, "-m", "nablax.demo", "--epochs", "2", "--no-plot"],
                            capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "loss curves" not in result.stdout and not list(tmp_path.iterdir())
