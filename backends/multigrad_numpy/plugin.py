"""Plugin entry point of the NumPy backend."""

from __future__ import annotations

from multigrad.backend import Backend, hookimpl

from .backend import NumpyBackend


@hookimpl
def multigrad_backends() -> list[type[Backend]]:
    """Provide the ``numpy`` device type."""
    return [NumpyBackend]
