"""nablax.stateful against PyTorch eager, on the notes' training loops.

    python -m benchmarks.stateful_vs_torch

The same PyTorch code run with `torch` bound to PyTorch and to `nablax.stateful`, in one
process and in alternating rounds (see `benchmarks/contenders/torch_style.py`):
(a) the notes' linear regression loop: forward, `loss.backward()`, `w -= lr * w.grad` under
    `no_grad`, `w.grad.zero_()`;
(b) the notes' pipeline: `nn.Linear(1, 1)`, `nn.MSELoss`, `optim.SGD`;
(c) an MLP 64-128-128-10 on batches of 64 with `nn.CrossEntropyLoss` and `optim.SGD`.
PyTorch runs with its default threads and with one thread. Prints the time per iteration of
each and the ratios nablax / PyTorch (target: <= 1.0).
"""

from __future__ import annotations

import nablax.stateful  # noqa: F401  (turns on jax_enable_x64 before anything is built)

from .measure import step_seconds
from .timing import markdown_table

WORKLOADS = ["linreg", "pipeline", "medium"]


def main() -> None:
    import torch

    rows = []
    for title, (default, single, stateful) in step_seconds(WORKLOADS, ["torch", "torch-1t", "nablax-stateful"]):
        rows.append([title, f"{default * 1e6:.1f}", f"{single * 1e6:.1f}", f"{stateful * 1e6:.1f}",
                     f"{stateful / default:.2f}", f"{stateful / single:.2f}"])
    print(f"PyTorch {torch.__version__} eager ({torch.get_num_threads()} threads by default) vs nablax.stateful, CPU")
    print(markdown_table(["workload", "PyTorch (us/iter)", "PyTorch, 1 thread (us/iter)", "nablax.stateful (us/iter)",
                          "nablax / PyTorch", "nablax / PyTorch, 1 thread"], rows))


if __name__ == "__main__":
    main()
