"""Plugin entry point of the OpenCL backend (entry-point group ``multigrad.backends``)."""

from __future__ import annotations

from multigrad.backend import Backend, hookimpl

from .backend import OpenCLBackend


@hookimpl
def multigrad_backends() -> list[type[Backend]]:
    """Provide the ``opencl`` device type.

    The class is returned even when no OpenCL platform is present; its
    ``availability()`` then reports why and what to install.
    """
    return [OpenCLBackend]
