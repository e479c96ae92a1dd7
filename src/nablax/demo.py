"""`python -m nablax.demo`: an MLP learns scikit-learn's handwritten digits, three ways.

Loads the 1797 8x8 digit images that ship inside scikit-learn (no download) and trains the
MLP 64-128-10 with softmax cross-entropy and SGD from the same initial parameters on the same
batches in each style of `nablax.side_by_side`: the stateful face op by op (the PyTorch
loop), the functional face with a jitted step, and `nablax.fit` with each epoch one compiled
`lax.scan`. Prints every epoch's loss in each style, then accuracy, loss and time per step
side by side, and writes the loss curves to a PNG when matplotlib is installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import pathlib
import tempfile
import time

import numpy as np
from . import side_by_side


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


def epoch_means(losses: np.ndarray, epochs: int) -> np.ndarray:
    """Each epoch's mean step loss (every epoch has the same number of steps)."""
    return losses.reshape(epochs, -1).mean(axis=1)


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(prog="python -m nablax.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default=str(pathlib.Path(tempfile.gettempdir()) / "nablax-demo" / "losses.png"),
                        help="where to write the loss curves (PNG; needs matplotlib)")
    parser.add_argument("--no-plot", action="store_true", help="do not write the loss curves")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    x_train, x_test, y_train, y_test = load_digits_split(args.seed)
    print(f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8 pixels")
    print(side_by_side.make_model())
    print(f"trained from the same initial parameters on the same batches of {args.batch_size}, with SGD (lr {args.lr}), "
          f"in three styles:")
    results = side_by_side.compare((x_train, y_train), (x_test, y_test), epochs=args.epochs,
                                   batch_size=args.batch_size, lr=args.lr, seed=args.seed)

    print()
    print("mean loss per epoch")
    print("epoch  " + "  ".join(f"{result.style:>9}" for result in results))
    means = [epoch_means(result.losses, args.epochs) for result in results]
    for epoch in range(args.epochs):
        print(f"{epoch + 1:>5}  " + "  ".join(f"{values[epoch]:>9.5f}" for values in means))
    print()
    print(side_by_side.table(results))
    print(f"largest difference between the styles' losses at the same step: {side_by_side.largest_loss_gap(results):.1e} "
          f"({len(results[0].losses)} steps)")
    if not args.no_plot:
        if importlib.util.find_spec("matplotlib") is None:
            print("loss curves: not drawn (python -m pip install matplotlib to get them)")
        else:
            steps_per_epoch = len(results[0].losses) // args.epochs
            print(f"loss curves: {side_by_side.plot_losses(results, args.plot, steps_per_epoch)}")
    print(f"total: {time.perf_counter() - start:.1f} s")
    return {
        result.style: {"test_accuracy": result.test_accuracy, "seconds_per_step": result.seconds_per_step}
        for result in results
    }


if __name__ == "__main__":
    main()
