"""The NumPy backend's process-level settings: malloc tuning and silent floating-point kernels."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

CODE = (
    "import multigrad as mg, multigrad_numpy._allocator as a\n"
    "mg.ones(2)\n"
    "print(a._applied)\n"
)

glibc_only = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="the tuning applies to glibc only"
)


@glibc_only
def test_malloc_tuned_on_first_numpy_device():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_malloc_tuning_can_be_switched_off():
    env = {"MULTIGRAD_NUMPY_TUNE_MALLOC": "0", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "False"


def test_kernels_compute_inf_and_nan_silently():
    # A fresh interpreter shows the warnings a user gets, because pytest installs warning filters of its own.
    code = (
        "import numpy as np, multigrad as mg\n"
        "print((mg.tensor([1e30]) * 1e30).tolist(), mg.tensor([0.0]).log().tolist())\n"
        "np.array([1e30], dtype=np.float32) * np.float32(1e30)\n"
    )
    out = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[inf] [-inf]"
    assert out.stderr.count("RuntimeWarning") == 1, out.stderr  # only the user's own NumPy line warns
    assert "<string>:3" in out.stderr
