"""Hook specifications that a backend plugin implements."""

from __future__ import annotations

import pluggy

from .backend import Backend

hookspec = pluggy.HookspecMarker("multigrad")

#: Marker for plugin hook implementations: ``@hookimpl def multigrad_backends(): ...``.
hookimpl = pluggy.HookimplMarker("multigrad")


@hookspec
def multigrad_backends() -> list[type[Backend]]:
    """Return the Backend subclasses this plugin provides, one per device type.

    Called once per plugin when multigrad first needs a device. Each class
    must subclass :class:`multigrad.backend.Backend` and set a unique
    ``type_name``; availability is asked later, so a plugin for hardware that
    is absent still loads and reports why it cannot run.
    """
