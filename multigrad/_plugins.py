"""Backend discovery through pluggy and the ``multigrad.backends`` entry-point group.

The core imports no backend module directly: every backend, the built-in NumPy
one included, arrives through the entry-point group, exactly as a third-party
plugin would. A plugin that fails to import or validate is logged and skipped,
unless ``MULTIGRAD_STRICT_PLUGINS=1`` turns that into an error.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import threading
from dataclasses import dataclass

import pluggy

from . import _hookspecs
from .backend import Backend, BackendUnavailableError

logger = logging.getLogger("multigrad")

ENTRY_POINT_GROUP = "multigrad.backends"


@dataclass
class PluginFailure:
    """A plugin that could not be loaded, for ``multigrad backends`` and error messages."""

    name: str
    distribution: str
    error: BaseException

    def describe(self) -> str:
        return f"plugin '{self.name}' from distribution '{self.distribution}' failed: {type(self.error).__name__}: {self.error}"


class PluginError(RuntimeError):
    """Raised under ``MULTIGRAD_STRICT_PLUGINS=1`` when a backend plugin fails to load."""


class BackendRegistry:
    """The backends known to this process, keyed by device type name."""

    def __init__(self) -> None:
        self.types: dict[str, type[Backend]] = {}
        self.failures: list[PluginFailure] = []
        self._instances: dict[tuple[str, int], Backend] = {}
        self._loaded = False
        # Loading plugins and creating backends happen once; the lock keeps threads from seeing half of it.
        self._lock = threading.RLock()
        self.manager = pluggy.PluginManager("multigrad")
        self.manager.add_hookspecs(_hookspecs)

    # -- loading -------------------------------------------------------

    def load(self) -> None:
        """Load every plugin of the entry-point group once."""
        if self._loaded:
            return
        with self._lock:
            if not self._loaded:
                self._load_entry_points()
                self._loaded = True

    def _load_entry_points(self) -> None:
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            distribution = entry_point.dist.name if entry_point.dist is not None else "unknown"
            try:
                plugin = entry_point.load()
                self.register_plugin(plugin, name=entry_point.name)
            except Exception as error:  # noqa: BLE001 - any plugin failure is reported, not fatal
                self._fail(entry_point.name, distribution, error)

    def register_plugin(self, plugin: object, name: str | None = None) -> list[type[Backend]]:
        """Register a plugin object (module or instance with hook implementations) and its backends."""
        self.manager.register(plugin, name=name)
        impls = [impl for impl in self.manager.hook.multigrad_backends.get_hookimpls() if impl.plugin is plugin]
        if not impls:
            self.manager.unregister(plugin)
            raise PluginError(f"plugin '{name}' has no 'multigrad_backends' hook implementation; decorate it with @multigrad.backend.hookimpl")
        try:
            backend_types = [t for impl in impls for t in impl.function()]
            for backend_type in backend_types:
                self._validate(backend_type, name)
        except Exception:
            self.manager.unregister(plugin)
            raise
        for backend_type in backend_types:
            self.types[backend_type.type_name] = backend_type
            logger.debug("registered backend %r from plugin %r", backend_type.type_name, name)
        return backend_types

    def _validate(self, backend_type: object, plugin_name: str | None) -> None:
        if not (isinstance(backend_type, type) and issubclass(backend_type, Backend)):
            raise PluginError(f"plugin '{plugin_name}' returned {backend_type!r}, which is not a multigrad.backend.Backend subclass")
        name = backend_type.type_name
        if not name or not name.isidentifier():
            raise PluginError(f"plugin '{plugin_name}': backend {backend_type.__name__} has an invalid type_name {name!r}")
        if name in self.types and self.types[name] is not backend_type:
            raise PluginError(f"plugin '{plugin_name}': device type {name!r} is already provided by {self.types[name].__module__}")

    def _fail(self, name: str, distribution: str, error: BaseException) -> None:
        failure = PluginFailure(name, distribution, error)
        if os.environ.get("MULTIGRAD_STRICT_PLUGINS") == "1":
            raise PluginError(failure.describe() + " (MULTIGRAD_STRICT_PLUGINS=1 makes this an error)") from error
        self.failures.append(failure)
        logger.warning("skipping backend %s", failure.describe())

    # -- lookup --------------------------------------------------------

    def backend_type(self, type_name: str) -> type[Backend]:
        self.load()
        try:
            return self.types[type_name]
        except KeyError:
            known = ", ".join(sorted(self.types)) or "none"
            hints = "".join(f"; {f.describe()}" for f in self.failures)
            raise RuntimeError(
                f"unknown device type {type_name!r}: installed backends are {known}{hints}. "
                f"Use one of those (the CPU device is 'numpy'), or install a backend plugin that provides {type_name!r}."
            ) from None

    def get(self, type_name: str, index: int = 0) -> Backend:
        """Return the backend instance for device ``type_name:index``, creating it once."""
        key = (type_name, index)
        backend = self._instances.get(key)
        if backend is not None:
            return backend
        with self._lock:
            backend = self._instances.get(key)
            if backend is None:
                backend = self._create(type_name, index)
        return backend

    def _create(self, type_name: str, index: int) -> Backend:
        key = (type_name, index)
        backend_type = self.backend_type(type_name)
        available, reason = backend_type.availability()
        if not available:
            raise BackendUnavailableError(f"device '{type_name}' is not available: {reason}")
        count = backend_type.device_count()
        if not 0 <= index < count:
            raise RuntimeError(f"device '{type_name}:{index}' does not exist: this machine has {count} {type_name} device(s), numbered from 0")
        backend = self._instances[key] = backend_type(index)
        return backend


REGISTRY = BackendRegistry()
