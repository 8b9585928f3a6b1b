"""Anomaly mode: forward tracebacks for failing backward nodes, and NaN checks."""

from __future__ import annotations

import functools
import warnings

from .._node import ANOMALY

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]


def is_anomaly_enabled() -> bool:
    """Return whether anomaly mode is on."""
    return ANOMALY.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Return whether anomaly mode checks backward results for NaN."""
    return ANOMALY.check_nan


class set_detect_anomaly:
    """Turn anomaly mode on or off, at once; as a context manager it restores the previous mode.

    In anomaly mode every node records the traceback of the forward call that
    created it, and a backward error is reported with that traceback. With
    ``check_nan``, a NaN returned by a node raises, naming the node and the
    output index. It slows every op down; use it for debugging only.
    """

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._previous = (ANOMALY.enabled, ANOMALY.check_nan)
        ANOMALY.enabled = bool(mode)
        ANOMALY.check_nan = bool(check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc_info) -> None:
        ANOMALY.enabled, ANOMALY.check_nan = self._previous


class detect_anomaly:
    """Enable anomaly mode inside a ``with`` block or a decorated function."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
            "enabled for debugging.",
            UserWarning,
            stacklevel=2,
        )

    def __enter__(self) -> None:
        self._previous = (ANOMALY.enabled, ANOMALY.check_nan)
        ANOMALY.enabled = True
        ANOMALY.check_nan = self.check_nan

    def __exit__(self, *exc_info) -> None:
        ANOMALY.enabled, ANOMALY.check_nan = self._previous

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return wrapper
