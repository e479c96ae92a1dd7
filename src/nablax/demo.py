"""`python -m nablax.demo`: an MLP learns scikit-learn's handwritten digits.

Loads the 1797 8x8 digit images that ship inside scikit-learn (no download), trains
`MLP([64, 128, 10])` with softmax cross-entropy and `optax.sgd`, each epoch one compiled
`lax.scan`, and prints the loss of every epoch, the test accuracy and the time per step.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import optax

import nablax as nx


def load_digits_split(seed: int = 0, test_fraction: float = 0.2):
    """The digits as float32 images scaled to [0, 1] and int32 labels, split train/test."""
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError as error:
        raise SystemExit("the demo needs scikit-learn: python -m pip install -e \".[examples]\"") from error
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int32)
    return train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m nablax.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    x_train, x_test, y_train, y_test = load_digits_split(args.seed)
    model = nx.nn.MLP([64, 128, 10])
    print(f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8 pixels")
    print(model)

    loss_fn = nx.supervised_loss(model, nx.losses.cross_entropy, metrics={"accuracy": nx.metrics.accuracy})
    optimizer = optax.sgd(args.lr)
    state, history = nx.fit(
        loss_fn, optimizer, model.init(args.seed), (x_train, y_train),
        epochs=args.epochs, batch_size=args.batch_size, key=args.seed,
        eval_data=(x_test, y_test), progress=None,
    )

    test_accuracy = history["val_accuracy"][-1]
    step_us = history.seconds_per_step() * 1e6
    print(f"test accuracy: {test_accuracy:.2%}")
    print(f"time per step: {step_us:.1f} us ({history.steps_per_epoch} steps of {args.batch_size} images per epoch, "
          f"each epoch one compiled lax.scan; the first epoch, compiling, took {history.epoch_seconds[0]:.2f} s)")
    print(f"total: {time.perf_counter() - start:.1f} s")
    return {"test_accuracy": test_accuracy, "seconds_per_step": history.seconds_per_step()}


if __name__ == "__main__":
    main()
