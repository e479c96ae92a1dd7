"""The README's first command: the digits demo reaches 95% test accuracy."""

import re
import subprocess
import sys


def test_demo_trains_digits_to_95_percent():
    result = subprocess.run([sys.executable, "-m", "nablax.demo"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "epoch 1/20" in out and "epoch 20/20" in out
    accuracy = float(re.search(r"test accuracy: ([\d.]+)%", out).group(1))
    assert accuracy >= 95.0
    assert re.search(r"time per step: [\d.]+ us", out)
