"""Runs PyTorch example scripts one after another in one Python process, under PyTorch or
under `nablax.stateful`, and prints each script's output between marker lines.

    python tests/script_runner.py [--timeout SECONDS] MODE SCRIPT...

where MODE is one of `MODES`.

One process per mode, not one per script, because starting Python with torch or JAX costs
seconds. Each script still starts from a clean slate, as `python SCRIPT` would run it: a
fresh namespace (`runpy.run_path` with `__name__ == "__main__"`), its own folder first on
`sys.path` (so it imports the modules beside it), an empty temporary working directory (so
the files it writes go nowhere and no two modes share them), and the random stream reseeded
to the default seed.

The `torch-shifted` modes are PyTorch with every seed moved by the mode's `SEED_SHIFTS`, the
global one (`torch.manual_seed`) and each generator's (`torch.Generator().manual_seed`): the
lines that differ between the `torch` and `torch-shifted` runs are the ones that depend on
random values. Two shifts, because a value that depends on the seed only weakly (a converged
loss printed with six decimals) prints alike under two seeds more often than one would think.
"""

from __future__ import annotations

import os
import runpy
import shutil
import signal
import sys
import tempfile
import traceback

# Both frameworks get the same fixed seed before each script: nablax's default seed
# (PyTorch's documented default), since PyTorch 2.13 seeds its stream randomly at import.
DEFAULT_SEED = 67280421310721
SEED_SHIFTS = {"torch-shifted": 12345, "torch-shifted-again": 271828}
MODES = ("torch", *SEED_SHIFTS, "nablax")
# A script that runs longer (or `--timeout` seconds) is stopped with an error, so that one
# hung or very slow script cannot keep the scripts after it from being reported.
DEFAULT_SCRIPT_TIMEOUT_S = 600

BEGIN_MARKER = "##### script-runner begin "
END_MARKER = "##### script-runner end "


def import_torch(mode: str):
    """The module that `import torch` means in `mode`, with its seeding adjusted for it."""
    if mode not in MODES:
        raise SystemExit(f"unknown mode {mode!r}: expected one of {', '.join(MODES)}")
    if mode == "nablax":
        from nablax.stateful import as_torch

        as_torch.install()
    import torch

    if mode in SEED_SHIFTS:
        shift_seeds(torch, SEED_SHIFTS[mode])
    return torch


def shift_seeds(torch, shift: int) -> None:
    """Makes `torch.manual_seed(s)` and `torch.Generator().manual_seed(s)` seed with
    `s + shift`, so every draw changes."""
    unshifted_manual_seed = torch.manual_seed

    def shifted_manual_seed(seed):
        return unshifted_manual_seed(int(seed) + shift)

    class ShiftedGenerator(torch.Generator):
        def manual_seed(self, seed):
            return super().manual_seed(int(seed) + shift)

    torch.manual_seed = shifted_manual_seed
    torch.Generator = ShiftedGenerator


def run_script(path: str, timeout_s: int = DEFAULT_SCRIPT_TIMEOUT_S) -> int:
    """Runs one script as `__main__` in a fresh temporary directory, with its folder first on
    `sys.path`, and returns its exit status; a traceback goes to stderr."""
    path = os.path.abspath(path)
    sys.argv = [path]
    saved_path, saved_cwd = list(sys.path), os.getcwd()
    sys.path.insert(0, os.path.dirname(path))
    workdir = tempfile.mkdtemp(prefix="script-runner-")
    os.chdir(workdir)
    def stop_script(signum, frame):
        raise TimeoutError(f"the script ran longer than {timeout_s} s")

    signal.signal(signal.SIGALRM, stop_script)
    signal.alarm(timeout_s)
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as exit_request:
        code = exit_request.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except BaseException:  # a script's failure must not stop the scripts after it
        traceback.print_exc()
        return 1
    finally:
        signal.alarm(0)
        os.chdir(saved_cwd)
        shutil.rmtree(workdir, ignore_errors=True)
        sys.path[:] = saved_path
    return 0


def main(argv: list[str]) -> None:
    timeout_s = DEFAULT_SCRIPT_TIMEOUT_S
    if argv[:1] == ["--timeout"]:
        timeout_s, argv = int(argv[1]), argv[2:]
    if len(argv) < 2:
        raise SystemExit(__doc__)
    mode, scripts = argv[0], argv[1:]
    torch = import_torch(mode)
    for path in scripts:
        for stream in (sys.stdout, sys.stderr):
            print(f"{BEGIN_MARKER}{path}", file=stream, flush=True)
        torch.manual_seed(DEFAULT_SEED)
        status = run_script(path, timeout_s)
        sys.stdout.flush()
        for stream in (sys.stdout, sys.stderr):
            print(f"{END_MARKER}{path} exit={status}", file=stream, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
