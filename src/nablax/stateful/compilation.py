"""Compiling, seen from a script: which programs nablax builds and why, how many, and
keeping compiled programs across runs (JAX's persistent compilation cache).

    >>> import nablax.stateful as torch
    >>> x = torch.tensor([1.0, 2.0])
    >>> lines = []
    >>> with torch.explain_compiles(report=lines.append):
    ...     totals = [(x * scale).exp().sum().item() for scale in (2.0, 3.0)]   # a number is an argument
    >>> len(lines)
    1
    >>> torch.compile_stats()["programs_built"] >= 1
    True
"""

from __future__ import annotations

import os
import pathlib

import jax

from .engine import cache, host
from .engine.explain import EXPLAINING


class explain_compiles:  # noqa: N801 - a function to call, or a context to enter, like set_grad_enabled
    """Reports each program nablax builds (and each new set of input shapes one is compiled
    for) with its cause and the line of your code that asked: `explain_compiles()` turns it
    on, `explain_compiles(False)` off, `with explain_compiles():` for a block. `report`
    receives each line (default: printed to stderr). `NABLAX_EXPLAIN_COMPILES=1` in the
    environment turns it on from the start."""

    def __init__(self, enabled: bool = True, report=None):
        self._previous = (EXPLAINING.enabled, EXPLAINING.report)
        EXPLAINING.enabled, EXPLAINING.report = bool(enabled), report

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        EXPLAINING.enabled, EXPLAINING.report = self._previous
        return False


def compile_stats() -> dict[str, int]:
    """Counts since the process started: programs built, runs of programs already built,
    executables compiled (one per program and set of input shapes), programs compiled again
    fully optimized after many runs (engine/cache.py's two tiers), graphs computed on the host
    without a program, and programs held now."""
    programs = cache.PROGRAMS
    return {"programs_built": programs.compiles, "cache_hits": programs.hits, "executables_compiled": programs.executables,
            "programs_optimized": programs.optimized,
            "host_evaluations": host.EVALUATIONS[0], "programs_held": len(programs)}


def default_cache_dir() -> pathlib.Path:
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base) / "nablax" / "jax"


def use_persistent_cache() -> pathlib.Path | None:
    """Keeps compiled programs on disk, so a script's second run compiles nothing it compiled
    before (tracing still runs; XLA's compilation, most of the cost, does not).

    On by default, in `~/.cache/nablax/jax` (`$XDG_CACHE_HOME/nablax/jax`): a learner's
    scripts are short and mostly compiling, and the cache is JAX's own, keyed by program,
    JAX version and platform. `NABLAX_COMPILATION_CACHE=0` turns it off, a path moves it; a
    cache directory set for JAX itself (`jax_compilation_cache_dir`) is left as it is.
    Returns the directory in use, or None."""
    setting = os.environ.get("NABLAX_COMPILATION_CACHE", "")
    if setting.lower() in ("0", "off", "false", "no"):
        return None
    if jax.config.jax_compilation_cache_dir:
        return pathlib.Path(jax.config.jax_compilation_cache_dir)
    directory = pathlib.Path(setting) if setting else default_cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only home, say: compile as before
        return None
    jax.config.update("jax_compilation_cache_dir", str(directory))
    # Every program: a learner's programs compile in tens of milliseconds, under JAX's defaults.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return directory
