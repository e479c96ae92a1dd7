"""`History`: what a `fit` run measured, per epoch and per step."""

from __future__ import annotations

import numpy as np


class History(dict):
    """Per-epoch metrics of a `fit` run: `history["loss"][e]` is the mean training loss of
    epoch `e`; evaluation metrics carry a `val_` prefix.

    `steps` holds every step's metrics (one array per name), `epoch_seconds` the wall time of
    each epoch (the first includes compilation) and `steps_per_epoch` the number of steps.

        >>> import numpy as np
        >>> history = History()
        >>> history.add_steps({"loss": np.array([4.0, 1.0])}, np.array([3, 1]), seconds=0.5)
        {'loss': 3.25}
        >>> history.steps_per_epoch, history.epoch_seconds
        (2, [0.5])
    """

    def __init__(self):
        super().__init__()
        self.steps: dict[str, np.ndarray] = {}
        self.epoch_seconds: list[float] = []
        self.steps_per_epoch = 0

    def seconds_per_step(self) -> float:
        """Median time of a training step, leaving out the first (compiling) epoch when there
        are others."""
        return steady_seconds_per_step(self.epoch_seconds, self.steps_per_epoch)

    def add_steps(self, steps: dict[str, np.ndarray], sizes: np.ndarray, *, seconds: float) -> dict[str, float]:
        """Appends one epoch's step metrics (`sizes`: the examples in each step's batch) and
        its time, and returns the epoch's means of the metrics, weighted by examples."""
        weights = np.asarray(sizes, np.float64)
        means = {}
        for name, values in steps.items():
            self.steps[name] = np.concatenate([self.steps[name], values]) if name in self.steps else values
            means[name] = float(np.sum(values * weights) / np.sum(weights))
        self.steps_per_epoch = len(weights)
        self.epoch_seconds.append(seconds)
        return means

    def add_epoch(self, metrics: dict[str, float]) -> None:
        """Appends one epoch's metrics."""
        for name, value in metrics.items():
            self.setdefault(name, []).append(value)


def steady_seconds_per_step(epoch_seconds: list[float], steps_per_epoch: int) -> float:
    """The median epoch time per step, leaving out the first (compiling) epoch when there
    are others."""
    timed = epoch_seconds[1:] or epoch_seconds
    return float(np.median(timed)) / max(steps_per_epoch, 1)
