"""Backend discovery: entry points, failure reporting, strict mode, and a core free of backend imports."""

from __future__ import annotations

import ast
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

import multigrad as mg
from multigrad._plugins import BackendRegistry, PluginError
from multigrad.backend import Backend, KernelNotImplementedError, hookimpl

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_numpy_backend_arrives_through_entry_point():
    import importlib.metadata

    names = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="multigrad.backends")}
    assert names.get("numpy") == "multigrad_numpy.plugin"
    registry = BackendRegistry()
    registry.load()
    assert registry.types["numpy"].__module__ == "multigrad_numpy.backend"


def test_core_imports_no_backend_module():
    backend_packages = {p.name for p in (ROOT / "backends").iterdir() if (p / "__init__.py").exists()}
    assert "multigrad_numpy" in backend_packages
    offenders = []
    for path in (ROOT / "multigrad").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in backend_packages]
    assert offenders == []


def test_import_multigrad_does_not_load_backends():
    code = "import sys, multigrad; print(any(m.startswith('multigrad_') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _write_plugin(tmp_path: pathlib.Path, body: str, name: str = "mg_test_plugin") -> pathlib.Path:
    """Install a fake distribution with a multigrad.backends entry point under tmp_path."""
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(body))
    dist = tmp_path / f"{name}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[multigrad.backends]\n{name} = {name}\n")
    return tmp_path


def _run_with_path(path: pathlib.Path, code: str, env_extra: dict | None = None):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(path), os.environ.get("PYTHONPATH", "")]))
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)


BROKEN_PLUGIN = "raise ImportError('libfoo.so not found')\n"


def test_failing_plugin_is_reported_and_skipped(tmp_path):
    path = _write_plugin(tmp_path, BROKEN_PLUGIN)
    code = (
        "import multigrad as mg\n"
        "from multigrad._plugins import REGISTRY\n"
        "print((mg.ones(2) + 1).tolist())\n"
        "print([f.describe() for f in REGISTRY.failures])\n"
    )
    out = _run_with_path(path, code)
    assert out.returncode == 0, out.stderr
    assert "[2.0, 2.0]" in out.stdout
    assert "plugin 'mg_test_plugin' from distribution 'mg_test_plugin' failed: ImportError: libfoo.so not found" in out.stdout


def test_strict_plugins_turns_failure_into_error(tmp_path):
    path = _write_plugin(tmp_path, BROKEN_PLUGIN)
    out = _run_with_path(path, "import multigrad as mg; mg.ones(2)", {"MULTIGRAD_STRICT_PLUGINS": "1"})
    assert out.returncode != 0
    assert "MULTIGRAD_STRICT_PLUGINS=1" in out.stderr
    assert "libfoo.so not found" in out.stderr


class TinyBackend(Backend):
    type_name = "tiny"
    install_hint = "pip install tiny-backend"

    def from_numpy(self, array):
        return array.copy()

    def to_numpy(self, array):
        return array

    def full(self, shape, value, dtype):
        import numpy as np

        return np.full(shape, value, dtype=dtype)


class TinyPlugin:
    @staticmethod
    @hookimpl
    def multigrad_backends():
        return [TinyBackend]


def test_registered_backend_runs_and_names_missing_kernel():
    registry = BackendRegistry()
    registry._loaded = True
    registry.register_plugin(TinyPlugin(), name="tiny-plugin")
    backend = registry.get("tiny")
    with pytest.raises(KernelNotImplementedError, match="op 'exp' is not implemented by the 'tiny' backend.*pip install tiny-backend"):
        backend.exp


def test_plugin_returning_non_backend_is_rejected():
    class BadPlugin:
        @staticmethod
        @hookimpl
        def multigrad_backends():
            return [object]

    registry = BackendRegistry()
    with pytest.raises(PluginError, match="not a multigrad.backend.Backend subclass"):
        registry.register_plugin(BadPlugin(), name="bad")


def test_unknown_device_message():
    with pytest.raises(RuntimeError, match="unknown device type 'nosuch'"):
        mg.zeros(2, device="nosuch")


def test_mixing_devices_names_both():
    from multigrad._creation import get_backend
    from multigrad._tensor import _wrap

    registry_backend = get_backend("numpy")
    other = TinyBackend(0)
    t = _wrap(other.full((2,), 1.0, registry_backend.full((1,), 0, "float32").dtype), other)
    with pytest.raises(RuntimeError, match=r"same device.*numpy.*tiny"):
        mg.ones(2) + t
