"""Grad mode: whether ops performed now are recorded for differentiation (per thread), and
PyTorch's context managers and decorators that switch it."""

from __future__ import annotations

import functools
import threading


class _GradMode(threading.local):
    enabled = True


MODE = _GradMode()  # read on every op: `MODE.enabled`


def is_grad_enabled() -> bool:
    """Whether ops performed now are recorded for differentiation."""
    return MODE.enabled


class _GradModeContext:
    """Base of `no_grad`/`enable_grad`/`set_grad_enabled`: a context manager and a decorator."""

    _target: bool

    def __new__(cls, function=None):
        # `@no_grad` without parentheses hands the function straight to the constructor.
        context = super().__new__(cls)
        return context(function) if callable(function) else context

    def __enter__(self):
        self._previous = MODE.enabled
        MODE.enabled = self._target
        return self

    def __exit__(self, *exc_info):
        MODE.enabled = self._previous
        return False

    def __call__(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with type(self)() if not isinstance(self, set_grad_enabled) else set_grad_enabled(self._target):
                return function(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):  # noqa: N801 - PyTorch's name
    """Ops inside do not record gradients: `with torch.no_grad(): w -= lr * w.grad`. Also a
    decorator, with or without parentheses."""

    _target = False


class enable_grad(_GradModeContext):  # noqa: N801
    """Turns gradient recording back on inside a `no_grad` region."""

    _target = True


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """Sets grad mode to `mode`, immediately and (as a context) for a block."""

    def __init__(self, mode: bool):
        self._target = bool(mode)
        self._previous = MODE.enabled
        MODE.enabled = self._target

    def __enter__(self):
        return self


inference_mode = no_grad
