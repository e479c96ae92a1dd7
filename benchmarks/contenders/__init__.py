"""The contenders: each trains every workload the way a user of that framework would write it.

A contender's `build(workload)` does the set-up (models, optimizer state, data on the
device) and returns a runner, `run(steps) -> (steps_done, last_loss)`, that trains for at
least `steps` steps, waits for the work to finish, and returns how many steps it took and
the last step's loss as a float. Every runner fetches its last loss once per call, so all of
them wait for their results the same way. Fused runners train whole epochs, so they may take
more steps than asked; their first call is a whole epoch.

A runner may carry `programs_compiled`, a function that returns how many programs its
framework has compiled so far; the suite reports any compiled while the runner was timed.

Contender modules import their framework at the top; this registry only imports a module
when the framework is installed, so a missing one is reported, not fatal.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
from collections.abc import Callable

Runner = Callable[[int], tuple[int, float]]


@dataclasses.dataclass(frozen=True)
class Contender:
    key: str
    title: str
    builder: str  # "module:function" within this package, imported on first use
    requires: tuple[str, ...] = ()
    fused: bool = False  # trains an epoch per compiled call
    kinds: tuple[str, ...] = ("mlp", "linreg", "cnn")  # the workload kinds it has a version of

    def missing(self) -> list[str]:
        """The required packages that cannot be imported here."""
        missing = []
        for name in self.requires:
            try:
                found = importlib.util.find_spec(name) is not None
            except (ImportError, ValueError):  # a module blocked with sys.modules[name] = None
                found = False
            if not found:
                missing.append(name)
        return missing

    def build(self, workload) -> Runner:
        """A fresh runner for `workload` (nothing compiled yet)."""
        module_name, function_name = self.builder.split(":")
        module = importlib.import_module(f"{__name__}.{module_name}")
        return getattr(module, function_name)(workload)


STEPPING = ("mlp", "linreg", "cnn", "gpt")  # the GPT is timed step by step only: its fused epochs add nothing new
TORCH_STYLE = (*STEPPING, "pipeline")
CONTENDERS = [
    Contender("jax", "JAX `jit`", "jax_by_hand:build_step_runner", ("optax",), kinds=STEPPING),
    Contender("jax-scan", "JAX `lax.scan` epoch", "jax_by_hand:build_epoch_runner", ("optax",), fused=True),
    Contender("torch", "PyTorch eager", "torch_style:build_torch_runner", ("torch",), kinds=TORCH_STYLE),
    Contender("torch-1t", "PyTorch eager, 1 thread", "torch_style:build_torch_single_thread_runner", ("torch",),
              kinds=TORCH_STYLE),
    Contender("nnx", "Flax NNX `nnx.jit`", "flax_nnx:build_jit_runner", ("flax",), kinds=STEPPING),
    Contender("nnx-cached", "Flax NNX `cached_partial`", "flax_nnx:build_cached_partial_runner", ("flax",), kinds=STEPPING),
    Contender("equinox", "Equinox `filter_jit`", "equinox_jit:build_runner", ("equinox",), kinds=STEPPING),
    Contender("nablax", "nablax step", "nablax_functional:build_step_runner", kinds=STEPPING),
    Contender("nablax-fit", "nablax `fit`", "nablax_functional:build_fit_runner", fused=True),
    Contender("nablax-stateful", "nablax.stateful", "torch_style:build_stateful_runner", kinds=TORCH_STYLE),
]
CONTENDER_KEYS = [contender.key for contender in CONTENDERS]
