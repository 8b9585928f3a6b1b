"""Without an OpenCL platform or without pyopencl, multigrad still imports and reports why "opencl" cannot run.

Each case runs in a subprocess: an empty ``OCL_ICD_VENDORS`` directory hides
every installed OpenCL driver from the ICD loader, and ``sys.modules['pyopencl']
= None`` makes importing pyopencl fail.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

REQUEST_OPENCL = """
import multigrad as mg
from multigrad.backend import BackendUnavailableError
from multigrad_opencl import OpenCLBackend
print("available:", OpenCLBackend.availability()[0])
print("numpy works:", (mg.ones(2) + 1).tolist())
try:
    mg.zeros(2, device="opencl")
except BackendUnavailableError as error:
    print("error:", error)
"""

HIDE_PYOPENCL = "import sys; sys.modules['pyopencl'] = None\n"


def _run(code: str, **env_extra: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "MULTIGRAD_DEVICE"}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def no_platform(tmp_path) -> dict:
    vendors = tmp_path / "vendors"
    vendors.mkdir()
    return {"OCL_ICD_VENDORS": str(vendors)}


def test_no_platform_reports_reason_and_fix(no_platform):
    out = _run(REQUEST_OPENCL, **no_platform)
    assert out.returncode == 0, out.stderr
    assert "available: False" in out.stdout
    assert "numpy works: [2.0, 2.0]" in out.stdout
    assert "error: device 'opencl' is not available: no OpenCL platform was found" in out.stdout
    assert "apt-get install pocl-opencl-icd" in out.stdout
    assert 'pip install -e ".[opencl]"' in out.stdout


def test_missing_pyopencl_reports_reason_and_fix():
    out = _run(HIDE_PYOPENCL + REQUEST_OPENCL)
    assert out.returncode == 0, out.stderr
    assert "available: False" in out.stdout
    assert "error: device 'opencl' is not available: pyopencl is not installed" in out.stdout
    assert 'pip install -e ".[opencl]"' in out.stdout


def test_default_device_opencl_fails_with_the_reason(no_platform):
    code = "import multigrad as mg\nmg.zeros(2)\n"
    out = _run(code, MULTIGRAD_DEVICE="opencl", **no_platform)
    assert out.returncode != 0
    assert "device 'opencl' is not available: no OpenCL platform was found" in out.stderr


def test_backends_command_lists_unavailable_opencl(no_platform):
    out = _run("from multigrad._cli import main; raise SystemExit(main(['backends']))", **no_platform)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    opencl = next(i for i, line in enumerate(lines) if line.startswith("opencl"))
    assert "unavailable" in lines[opencl]
    assert lines[opencl + 1].strip().startswith("reason: no OpenCL platform was found")
    assert any(line.startswith("numpy") and "available" in line for line in lines)


def test_backends_command_lists_opencl_devices():
    from opencl.availability import require_opencl

    require_opencl()
    out = _run("from multigrad._cli import main; raise SystemExit(main(['backends']))")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    opencl = next(i for i, line in enumerate(lines) if line.startswith("opencl"))
    assert lines[opencl].split()[1] == "available"
    assert lines[opencl + 1].strip().startswith("opencl:0 (")
