"""A third-party backend, written out of tree, found through the entry-point group and checked by the registry suite.

The test writes a small package that wraps NumPy arrays in a class of its own
and implements a handful of kernels, plus a ``.dist-info`` directory whose
``entry_points.txt`` registers it in ``multigrad.backends``. Subprocesses put
that directory on PYTHONPATH, so importlib.metadata finds it exactly as it
would find an installed distribution, and nothing is installed into the
shared environment.
"""

from __future__ import annotations

import ast
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

BACKEND_SOURCE = '''
"""multigrad's "tiny" device: NumPy arrays behind a wrapper class, and only a few kernels."""

import numpy as np

from multigrad.backend import Backend, hookimpl


class TinyArray:
    """A backend array; multigrad reads only its shape and dtype."""

    __slots__ = ("values",)

    def __init__(self, values):
        self.values = np.asarray(values)

    @property
    def shape(self):
        return self.values.shape

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def ndim(self):
        return self.values.ndim


def _values(x):
    return x.values if isinstance(x, TinyArray) else x


class TinyBackend(Backend):
    type_name = "tiny"
    install_hint = "pip install mg-tiny-backend[full]"

    def from_numpy(self, array):
        return TinyArray(np.array(array, copy=True))

    def to_numpy(self, array):
        return np.array(array.values, copy=True)

    def full(self, shape, value, dtype):
        return TinyArray(np.full(shape, value, dtype=dtype))

    def assign(self, dst, src):
        np.copyto(dst.values, _values(src), casting="unsafe")

    def cast(self, x, dtype):
        return TinyArray(x.values.astype(dtype))

    def clone(self, x):
        return TinyArray(x.values.copy())

    def shares_memory(self, a, b):
        return np.may_share_memory(a.values, b.values)

    def can_view(self, x, shape):
        # NOTE: view and expand may copy here, so writes through a view need not reach its base.
        return True

    def add(self, x, y, alpha=1):
        y = _values(y)
        return TinyArray(np.asarray(np.add(_values(x), y if alpha == 1 else np.multiply(y, alpha))))

    def mul(self, x, y):
        return TinyArray(np.asarray(np.multiply(_values(x), _values(y))))

    def sum(self, x, dims, keepdim):
        return TinyArray(np.asarray(np.sum(x.values, axis=dims or None, keepdims=keepdim, dtype=x.dtype)))

    def expand(self, x, shape):
        return TinyArray(np.broadcast_to(x.values, shape))

    def view(self, x, shape):
        return TinyArray(x.values.reshape(shape))


@hookimpl
def multigrad_backends():
    return [TinyBackend]
'''

#: The registry ops the tiny backend can run, forward and backward.
SUPPORTED_OPS = ["add", "mul", "sum"]


def _write_distribution(root: pathlib.Path, package: str, distribution: str, entry_name: str, source: str) -> None:
    (root / package).mkdir()
    (root / package / "__init__.py").write_text(textwrap.dedent(source))
    info = root / f"{package}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[multigrad.backends]\n{entry_name} = {package}\n")


@pytest.fixture
def plugin_path(tmp_path) -> pathlib.Path:
    _write_distribution(tmp_path, "mg_tiny_backend", "mg-tiny-backend", "tiny", BACKEND_SOURCE)
    _write_distribution(tmp_path, "mg_broken_backend", "mg-broken-backend", "broken",
                        "raise ImportError('libbroken.so: cannot open shared object file')\n")
    return tmp_path


def _run(plugin_path: pathlib.Path, *args: str) -> subprocess.CompletedProcess:
    path = os.pathsep.join(p for p in (str(plugin_path), os.environ.get("PYTHONPATH", "")) if p)
    env = {key: value for key, value in os.environ.items() if key != "MULTIGRAD_DEVICE"}
    env["PYTHONPATH"] = path
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=600)


def test_backends_command_lists_tiny_and_broken(plugin_path):
    out = _run(plugin_path, "-m", "multigrad", "backends")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    tiny = next(i for i, line in enumerate(lines) if line.startswith("tiny"))
    assert "available" in lines[tiny]
    assert "mg_tiny_backend.TinyBackend" in lines[tiny]
    assert lines[tiny + 1].strip() == "tiny:0"
    failed = [line for line in lines if line.startswith("failed")]
    assert len(failed) == 1
    assert "plugin 'broken' from distribution 'mg-broken-backend' failed: ImportError: libbroken.so" in failed[0]


def test_tiny_runs_its_ops_with_autograd(plugin_path):
    code = textwrap.dedent("""
        import multigrad as mg
        a = mg.tensor([1.0, 2.0], device="tiny", requires_grad=True)
        loss = (a * a + a).sum()
        loss.backward()
        print(type(a._data).__name__, loss.device, loss.item(), a.grad.device, a.grad.tolist())
    """)
    out = _run(plugin_path, "-c", code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["TinyArray", "tiny:0", "8.0", "tiny:0", "[3.0,", "5.0]"]


def test_tiny_missing_kernel_names_op_backend_and_fix(plugin_path):
    code = textwrap.dedent("""
        import multigrad as mg
        try:
            mg.tensor([1.0], device="tiny").exp()
        except NotImplementedError as error:
            print(type(error).__name__, error)
    """)
    out = _run(plugin_path, "-c", code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("KernelNotImplementedError op 'exp' is not implemented by the 'tiny' backend.")
    assert "tensor.to('numpy')" in out.stdout
    assert "pip install mg-tiny-backend[full]" in out.stdout


def test_tiny_tensor_moves_to_numpy_for_other_ops(plugin_path):
    code = textwrap.dedent("""
        import multigrad as mg
        t = mg.tensor([0.0, 1.0], device="tiny")
        print(t.to("numpy").exp().tolist())
        try:
            t + mg.ones(2)
        except RuntimeError as error:
            print(error)
    """)
    out = _run(plugin_path, "-c", code)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert ast.literal_eval(lines[0]) == pytest.approx([1.0, 2.7182818], rel=1e-6)
    assert "tiny:0 and numpy" in lines[1]


def test_conformance_suite_passes_on_supported_ops(plugin_path):
    selection = [arg for op in SUPPORTED_OPS for arg in ("--op", op)]
    out = _run(plugin_path, "-m", "multigrad.testing", "tiny", *selection, "--no-gradcheck")
    assert out.returncode == 0, out.stdout + out.stderr
    summary = out.stdout.splitlines()[-1]
    assert summary.startswith("multigrad[tiny] against multigrad[numpy]:")
    assert " 0 failed" in summary


def test_conformance_suite_reports_unsupported_op(plugin_path):
    out = _run(plugin_path, "-m", "multigrad.testing", "tiny", "--op", "exp", "--no-gradcheck")
    assert out.returncode == 1
    assert "op 'exp' is not implemented by the 'tiny' backend" in out.stdout
