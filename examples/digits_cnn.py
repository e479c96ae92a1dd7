"""A small CNN on scikit-learn's 8x8 digits, trained in both faces.

    python examples/digits_cnn.py [--epochs 15] [--style both|functional|stateful]

The same architecture — Conv2d, BatchNorm2d, ReLU, MaxPool2d, twice, then Dropout and
Linear — written with the functional face (pure `init`/`apply`, running statistics as a
state pytree, epochs fused by `fit`) and with the stateful face (`nn.Module`, buffers,
`loss.backward()`, `optimizer.step()`), as PyTorch code would be.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import optax

import nablax as nx
from nablax.demo import load_digits_split

BATCH_SIZE = 32
LEARNING_RATE = 0.05
MOMENTUM = 0.9


def images(x: np.ndarray) -> np.ndarray:
    """Flat 64-pixel rows as [N, 1, 8, 8] images (NCHW, PyTorch's layout)."""
    return x.reshape(-1, 1, 8, 8)


def functional_model() -> nx.nn.Sequential:
    return nx.nn.Sequential(
        nx.nn.Conv2d(1, 16, 3, padding=1), nx.nn.BatchNorm2d(16), nx.nn.ReLU(), nx.nn.MaxPool2d(2),
        nx.nn.Conv2d(16, 32, 3, padding=1), nx.nn.BatchNorm2d(32), nx.nn.ReLU(), nx.nn.MaxPool2d(2),
        nx.nn.Flatten(), nx.nn.Dropout(0.25), nx.nn.Linear(32 * 2 * 2, 10),
    )


def train_functional(data, epochs: int, seed: int = 0) -> float:
    """Trains with `fit` (each epoch one compiled lax.scan); returns the test accuracy."""
    x_train, x_test, y_train, y_test = data
    model = functional_model()
    loss_fn = nx.supervised_loss(model, nx.losses.cross_entropy, metrics={"accuracy": nx.metrics.accuracy})
    state, history = nx.fit(
        loss_fn, optax.sgd(LEARNING_RATE, momentum=MOMENTUM), model.init(seed), (images(x_train), y_train),
        epochs=epochs, batch_size=BATCH_SIZE, key=seed, eval_data=(images(x_test), y_test), progress=False,
    )
    return history["val_accuracy"][-1]


def stateful_model():
    """The same network as PyTorch code writes it, with `nablax.stateful.nn`."""
    from nablax.stateful import nn

    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 2 * 2, 10),
    )


def train_stateful(data, epochs: int, seed: int = 0) -> float:
    """The same network and loop as PyTorch code would write them; returns the test accuracy."""
    import nablax.stateful as torch
    from nablax.stateful import nn

    torch.manual_seed(seed)
    x_train, x_test, y_train, y_test = (torch.tensor(a) for a in data)
    x_train, x_test, y_train, y_test = images(x_train), images(x_test), y_train.long(), y_test.long()
    model = stateful_model()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_train, y_train), batch_size=BATCH_SIZE, shuffle=True)
    for _ in range(epochs):
        model.train()
        for batch_x, batch_y in loader:
            loss = criterion(model(batch_x), batch_y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        predictions = model(x_test).argmax(dim=1)
    return (predictions == y_test).float().mean().item()


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--style", choices=["both", "functional", "stateful"], default="both")
    args = parser.parse_args(argv)
    data = load_digits_split()
    styles = ["functional", "stateful"] if args.style == "both" else [args.style]
    results = {}
    for style in styles:
        start = time.perf_counter()
        accuracy = (train_functional if style == "functional" else train_stateful)(data, args.epochs)
        results[style] = accuracy
        print(f"{style:10s}  test accuracy {accuracy:.2%}  ({time.perf_counter() - start:.1f} s for {args.epochs} epochs)")
    return results


if __name__ == "__main__":
    main()
