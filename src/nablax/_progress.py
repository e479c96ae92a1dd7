"""Progress of `fit` on the terminal: a tqdm bar when tqdm is installed and the output is a
terminal, one plain line per epoch otherwise."""

from __future__ import annotations

import sys


def _format_line(epoch: int, epochs: int, metrics: dict[str, float], seconds: float) -> str:
    shown = "  ".join(f"{name} {value:.4f}" for name, value in metrics.items())
    took = f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1e3:.1f} ms"
    return f"epoch {epoch + 1}/{epochs}  {shown}  ({took})"


class Progress:
    """Reports each finished epoch; `mode` is 'bar', 'lines' or 'off'."""

    def __init__(self, epochs: int, mode: bool | None):
        self.epochs = epochs
        self.bar = None
        if mode is False:
            self.mode = "off"
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        want_bar = tqdm is not None and (mode is True or sys.stderr.isatty())
        self.mode = "bar" if want_bar else "lines"
        if want_bar:
            self.bar = tqdm(total=epochs, unit="epoch", leave=True)

    def epoch_done(self, epoch: int, metrics: dict[str, float], seconds: float) -> None:
        if self.mode == "off":
            return
        line = _format_line(epoch, self.epochs, metrics, seconds)
        if self.bar is not None:
            self.bar.write(line)
            self.bar.set_postfix({name: f"{value:.4f}" for name, value in metrics.items()})
            self.bar.update(1)
        else:
            print(line, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
