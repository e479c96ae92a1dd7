"""The loops around a contender's step, written once so that every contender pays the same
Python cost per step (one call, one batch lookup) and waits for its results the same way."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from . import Runner


def cycling_runner(step: Callable[[Any], Any], batches: Sequence[Any]) -> Runner:
    """Runs `step(batch) -> loss` over `batches` in a cycle, without waiting in between;
    waits once at the end by fetching the last loss."""
    position = 0

    def run(steps: int) -> tuple[int, float]:
        nonlocal position
        for _ in range(steps):
            loss = step(batches[position])
            position = (position + 1) % len(batches)
        return steps, loss.item()

    return run


def epochs_for(steps: int, steps_per_epoch: int) -> int:
    """Whole epochs that cover at least `steps` steps (at least one)."""
    return max(1, math.ceil(steps / steps_per_epoch))


def epoch_runner(run_epoch: Callable[[int], Any], steps_per_epoch: int) -> Runner:
    """Runs `run_epoch(epoch_index) -> step_losses` for whole epochs, numbering them on from
    call to call (each epoch shuffles by its own key)."""
    epochs_done = 0

    def run(steps: int) -> tuple[int, float]:
        nonlocal epochs_done
        epochs = epochs_for(steps, steps_per_epoch)
        for _ in range(epochs):
            losses = run_epoch(epochs_done)
            epochs_done += 1
        return epochs * steps_per_epoch, losses[-1].item()

    return run
