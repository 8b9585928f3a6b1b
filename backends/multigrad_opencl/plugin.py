"""pluggy entry point that registers the OpenCL backend with multigrad."""

from __future__ import annotations

import pluggy

from multigrad.backend import Backend

from .backend import OpenCLBackend

hookimpl = pluggy.HookimplMarker("multigrad")


@hookimpl
def multigrad_backends() -> list[type[Backend]]:
    """Return the backend classes this plugin provides: ``[OpenCLBackend]`` (device type ``"opencl"``).

    The class is returned even when no OpenCL platform is present; its
    ``availability()`` then reports why and what to install.
    """
    return [OpenCLBackend]
