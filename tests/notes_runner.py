"""Runs the notes' example scripts one after another in one Python process, under PyTorch or
under `nablax.stateful`, and prints each script's output between marker lines.

    python tests/notes_runner.py torch|torch-shifted|nablax SCRIPT...

One process per mode, not one per script, because starting Python with torch or JAX costs
seconds. Each script still starts from a clean slate: a fresh namespace (`runpy.run_path`
with `__name__ == "__main__"`) and the random stream reseeded to the default seed.

The `torch-shifted` mode is PyTorch with every seed moved by `SEED_SHIFT`: the lines that
differ between the `torch` and `torch-shifted` runs are the ones that depend on random values.
"""

from __future__ import annotations

import runpy
import sys
import traceback

# Both frameworks get the same fixed seed before each script: nablax's default seed
# (PyTorch's documented default), since PyTorch 2.13 seeds its stream randomly at import.
DEFAULT_SEED = 67280421310721
SEED_SHIFT = 12345
MODES = ("torch", "torch-shifted", "nablax")

BEGIN_MARKER = "##### notes-runner begin "
END_MARKER = "##### notes-runner end "


def import_torch(mode: str):
    """The module that `import torch` means in `mode`, with its seeding adjusted for it."""
    if mode not in MODES:
        raise SystemExit(f"unknown mode {mode!r}: expected one of {', '.join(MODES)}")
    if mode == "nablax":
        from nablax.stateful import as_torch

        as_torch.install()
    import torch

    if mode == "torch-shifted":
        shift_seeds(torch)
    return torch


def shift_seeds(torch) -> None:
    """Makes `torch.manual_seed(s)` seed with `s + SEED_SHIFT`, so every draw changes."""
    unshifted_manual_seed = torch.manual_seed

    def shifted_manual_seed(seed):
        return unshifted_manual_seed(int(seed) + SEED_SHIFT)

    torch.manual_seed = shifted_manual_seed


def run_script(path: str) -> int:
    """Runs one script as `__main__` and returns its exit status; a traceback goes to stderr."""
    sys.argv = [path]
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as exit_request:
        code = exit_request.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except BaseException:  # a script's failure must not stop the scripts after it
        traceback.print_exc()
        return 1
    return 0


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        raise SystemExit(__doc__)
    mode, scripts = argv[0], argv[1:]
    torch = import_torch(mode)
    for path in scripts:
        for stream in (sys.stdout, sys.stderr):
            print(f"{BEGIN_MARKER}{path}", file=stream, flush=True)
        torch.manual_seed(DEFAULT_SEED)
        status = run_script(path)
        for stream in (sys.stdout, sys.stderr):
            print(f"{END_MARKER}{path} exit={status}", file=stream, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
