"""Grad modes: whether ops record history, per thread."""

from __future__ import annotations

import functools
import inspect
import threading


class _GradState(threading.local):
    def __init__(self) -> None:
        self.enabled = True
        # Modes to restore on exit, so one context object can be shared by threads or re-entered.
        self.previous: list = []


#: Read by every generated op wrapper; one attribute per thread.
GRAD_STATE = _GradState()


def is_grad_enabled() -> bool:
    """Return whether ops on this thread record autograd history."""
    return GRAD_STATE.enabled


class _GradModeContext:
    """Base of the grad-mode switches: a context manager and a decorator."""

    _target: bool

    def __enter__(self) -> None:
        GRAD_STATE.previous.append(GRAD_STATE.enabled)
        GRAD_STATE.enabled = self._target

    def __exit__(self, *exc_info) -> None:
        GRAD_STATE.enabled = GRAD_STATE.previous.pop()

    def __call__(self, func):
        if inspect.isclass(func):
            raise TypeError(f"{type(self).__name__} decorates functions, not classes such as {func.__name__}")
        target = self._target

        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def generator_wrapper(*args, **kwargs):
                # Each resumption runs under the mode, and the caller's mode comes back between yields.
                gen = func(*args, **kwargs)
                value = None
                while True:
                    previous = GRAD_STATE.enabled
                    GRAD_STATE.enabled = target
                    try:
                        item = gen.send(value)
                    except StopIteration as stop:
                        return stop.value
                    finally:
                        GRAD_STATE.enabled = previous
                    value = yield item
            return generator_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            previous = GRAD_STATE.enabled
            GRAD_STATE.enabled = target
            try:
                return func(*args, **kwargs)
            finally:
                GRAD_STATE.enabled = previous
        return wrapper


class no_grad(_GradModeContext):
    """Disable history recording, as a context manager or a decorator."""

    _target = False


class enable_grad(_GradModeContext):
    """Enable history recording, as a context manager or a decorator."""

    _target = True


class set_grad_enabled(_GradModeContext):
    """Set history recording on or off.

    Like PyTorch's, it takes effect as soon as it is called, so the plain call
    ``set_grad_enabled(False)`` works too. As a context manager it restores
    the previous mode on exit.
    """

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled() expects a bool, got {type(mode).__name__}")
        self._previous = GRAD_STATE.enabled
        self._target = mode
        GRAD_STATE.enabled = mode

    def __enter__(self) -> None:
        # On exit, restore the mode from before the constructor switched it.
        GRAD_STATE.previous.append(self._previous)
        GRAD_STATE.enabled = self._target

    def __call__(self, func):
        # Used as a decorator: undo the immediate switch made by __init__.
        GRAD_STATE.enabled = self._previous
        return super().__call__(func)


class inference_mode(_GradModeContext):
    """Disable history recording, like :class:`no_grad`; ``inference_mode(False)`` leaves it on.

    NOTE: PyTorch also marks tensors made in inference mode, so that autograd
    later rejects them, and skips version counting for them. multigrad does
    neither, so this is no faster than no_grad.
    """

    def __init__(self, mode: bool = True) -> None:
        self._target = not mode
