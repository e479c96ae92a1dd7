"""nablax.stateful against PyTorch eager, on the notes' training loops.

    python -m benchmarks.stateful_vs_torch

Times one iteration of each workload, written once and run with `torch` bound to PyTorch
and to `nablax.stateful`, in one process and in alternating rounds:
(a) the notes' linear regression loop: forward, `loss.backward()`, `w -= lr * w.grad` under
    `no_grad`, `w.grad.zero_()`;
(b) the notes' pipeline: `nn.Linear(1, 1)`, `nn.MSELoss`, `optim.SGD`;
(c) an MLP 64-128-128-10 on batches of 64 with `nn.CrossEntropyLoss` and `optim.SGD`.
Prints the time per iteration of each and the ratio nablax / PyTorch (target: <= 1.0).
"""

from __future__ import annotations

import numpy as np
import torch as real_torch

import nablax.stateful as nablax_torch

from .timing import interleaved_medians, markdown_table


def linear_regression(torch):
    X = torch.tensor([1, 2, 3, 4], dtype=torch.float32)
    Y = torch.tensor([2, 4, 6, 8], dtype=torch.float32)
    w = torch.tensor(0.0, dtype=torch.float32, requires_grad=True)

    def run(iterations: int) -> None:
        for _ in range(iterations):
            y_pred = w * X
            l = ((y_pred - Y) ** 2).mean()
            l.backward()
            with torch.no_grad():
                w.sub_(0.01 * w.grad)  # `w -= ...` would rebind a closure variable
            w.grad.zero_()
        w.item()  # wait for the last iteration's work

    return run


def pipeline(torch):
    nn = torch.nn
    X = torch.tensor([[1], [2], [3], [4]], dtype=torch.float32)
    Y = torch.tensor([[2], [4], [6], [8]], dtype=torch.float32)
    model = nn.Linear(1, 1)
    loss = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def run(iterations: int) -> None:
        for _ in range(iterations):
            l = loss(Y, model(X))
            l.backward()
            optimizer.step()
            optimizer.zero_grad()
        model.weight.detach().sum().item()

    return run


def mlp(torch):
    nn = torch.nn
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((64, 64), dtype=np.float32))
    y = torch.tensor(rng.integers(0, 10, 64))
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def run(iterations: int) -> None:
        for _ in range(iterations):
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
        loss.item()

    return run


WORKLOADS = {
    "(a) linear regression, w.grad.zero_()": (linear_regression, 2000),
    "(b) nn.Linear + MSELoss + SGD": (pipeline, 1000),
    "(c) MLP 64-128-128-10, batch 64": (mlp, 300),
}


def main() -> None:
    rows = []
    for name, (workload, calls) in WORKLOADS.items():
        times = interleaved_medians({"torch": workload(real_torch), "nablax": workload(nablax_torch)}, calls=calls)
        rows.append([name, f"{times['torch'] * 1e6:.1f}", f"{times['nablax'] * 1e6:.1f}", f"{times['nablax'] / times['torch']:.2f}"])
    print(f"PyTorch {real_torch.__version__} eager ({real_torch.get_num_threads()} threads) vs nablax.stateful, CPU")
    print(markdown_table(["workload", "PyTorch (us/iter)", "nablax.stateful (us/iter)", "nablax / PyTorch"], rows))


if __name__ == "__main__":
    main()
