"""One MLP on the scikit-learn digits, trained three ways from the same initial parameters
on the same batches — (a) `nablax.stateful` op by op, the PyTorch loop of the notes; (b) the
functional face with a jitted step; (c) `nablax.fit`, each epoch one `lax.scan` — at a few
model sizes. Checks that every step's loss agrees across the styles (1e-5) and prints what
each style costs per step.

The three training loops are in `nablax/side_by_side.py`, written to be read next to each
other; `python -m nablax.demo` runs the default size with per-epoch losses and a plot.

    python examples/compare_styles.py                 # hidden widths 32, 128 and 512
    python examples/compare_styles.py --hidden 256 --epochs 10
"""

import argparse
import sys

from nablax import side_by_side
from nablax.demo import load_digits_split

TOLERANCE = 1e-5


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[32, 128, 512], help="hidden widths to compare")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.2)
    args = parser.parse_args(argv)

    x_train, x_test, y_train, y_test = load_digits_split()
    worst = 0.0
    for hidden in args.hidden:
        results = side_by_side.compare((x_train, y_train), (x_test, y_test), hidden=hidden, epochs=args.epochs,
                                       batch_size=args.batch_size, lr=args.lr)
        gap = side_by_side.largest_loss_gap(results)
        worst = max(worst, gap)
        print(f"\nMLP 64-{hidden}-10, batch {args.batch_size}, {len(results[0].losses)} steps; "
              f"largest per-step loss difference between the styles: {gap:.1e}")
        print(side_by_side.table(results))
    if worst > TOLERANCE:
        print(f"\nthe styles disagree: a per-step loss differs by {worst:.1e} > {TOLERANCE:.0e}", file=sys.stderr)
        return 1
    print(f"\nevery step's loss agrees across the three styles to {TOLERANCE:.0e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
