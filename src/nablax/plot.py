"""Plots of training: `history` draws `fit`'s per-epoch curves with matplotlib."""

from __future__ import annotations

import pathlib


def history(history, path=None, *, title: str | None = None):
    """Loss and metric curves of a `fit` history: one panel for the loss, one per other
    metric, training and evaluation (`val_`) curves together. Saves a PNG (or whatever the
    suffix says) when `path` is given; returns the matplotlib figure.

    Needs matplotlib (`pip install "nablax[examples]"`)."""
    try:
        import matplotlib

        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError as error:
        raise ImportError('plotting needs matplotlib: python -m pip install "nablax[examples]"') from error
    metrics = [name for name in history if not name.startswith("val_")]
    figure, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.4), squeeze=False)
    epochs = range(1, len(history[metrics[0]]) + 1)
    for axis, name in zip(axes[0], metrics):
        axis.plot(epochs, history[name], marker="o", markersize=3, label="train")
        if f"val_{name}" in history:
            axis.plot(epochs, history[f"val_{name}"], marker="o", markersize=3, label="test")
        axis.set_title(name)
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.grid(alpha=0.3)
        axis.legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    if path is not None:
        figure.savefig(pathlib.Path(path), dpi=120)
    return figure
