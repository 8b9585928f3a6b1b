"""Hook specifications that a backend plugin implements."""

from __future__ import annotations

import pluggy

from .backend import Backend, hookimpl  # noqa: F401  (re-exported for plugin authors)

hookspec = pluggy.HookspecMarker("multigrad")


@hookspec
def multigrad_backends() -> list[type[Backend]]:
    """Return the Backend subclasses this plugin provides, one per device type.

    Called once per plugin when multigrad first needs a device. Each class
    must subclass :class:`multigrad.backend.Backend` and set a unique
    ``type_name``; availability is asked later, so a plugin for hardware that
    is absent still loads and reports why it cannot run.
    """
