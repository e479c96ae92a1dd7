"""Run code written for PyTorch on `nablax.stateful`, unchanged.

    python -m nablax.stateful.as_torch script.py [args...]

or, in Python, `nablax.stateful.as_torch.install()` before the script's `import torch`.
`install()` makes `import torch` (and `torch.nn`, `torch.optim`, `torch.autograd`,
`torch.nn.functional`, `torch.utils.data`, ...) resolve to nablax's modules in this process.
It refuses when the real PyTorch is already imported, so the two cannot be mixed up.
"""

from __future__ import annotations

import importlib
import os
import runpy
import sys

import nablax.stateful as stateful

_MODULES = {
    "torch": "nablax.stateful",
    "torch.nn": "nablax.stateful.nn",
    "torch.nn.functional": "nablax.stateful.nn.functional",
    "torch.nn.init": "nablax.stateful.nn.init",
    "torch.nn.parameter": "nablax.stateful.nn.parameter",
    "torch.nn.utils": "nablax.stateful.nn.utils",
    "torch.nn.utils.clip_grad": "nablax.stateful.nn.utils.clip_grad",
    "torch.nn.utils.convert_parameters": "nablax.stateful.nn.utils.convert_parameters",
    "torch.optim": "nablax.stateful.optim",
    "torch.optim.optimizer": "nablax.stateful.optim.optimizer",
    "torch.optim.lr_scheduler": "nablax.stateful.optim.lr_scheduler",
    "torch.autograd": "nablax.stateful.autograd",
    "torch.cuda": "nablax.stateful.cuda",
    "torch.accelerator": "nablax.stateful.accelerator",
    "torch.utils": "nablax.stateful.utils",
    "torch.utils.data": "nablax.stateful.utils.data",
    "torch.func": "nablax.stateful.func",
    "torch.linalg": "nablax.stateful.linalg",
}


def install() -> None:
    """Makes `import torch` mean `import nablax.stateful` from now on, in this process."""
    current = sys.modules.get("torch")
    if current is not None and current is not stateful:
        raise RuntimeError("the real torch is already imported in this process; call install() before importing it")
    for alias, target in _MODULES.items():
        sys.modules[alias] = importlib.import_module(target)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        raise SystemExit("usage: python -m nablax.stateful.as_torch script.py [args...]")
    install()
    sys.argv = argv
    # As `python script.py` does: the script's folder, not the working directory, comes first
    # on the path, so the script imports the modules beside it.
    sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
    runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
