"""Plugin entry point of the NumPy backend."""

from __future__ import annotations

import pluggy

from multigrad.backend import Backend

from .backend import NumpyBackend

hookimpl = pluggy.HookimplMarker("multigrad")


@hookimpl
def multigrad_backends() -> list[type[Backend]]:
    """Provide the ``numpy`` device type."""
    return [NumpyBackend]
