"""Skip a test when no OpenCL device can run, or fail under ``MULTIGRAD_REQUIRE_OPENCL=1`` (set in CI)."""

from __future__ import annotations

import os

import pytest


def require_opencl() -> None:
    """Skip the calling test (or fail it under MULTIGRAD_REQUIRE_OPENCL=1) when OpenCL is unavailable."""
    from multigrad_opencl import OpenCLBackend

    available, reason = OpenCLBackend.availability()
    if available:
        return
    if os.environ.get("MULTIGRAD_REQUIRE_OPENCL") == "1":
        pytest.fail(f"MULTIGRAD_REQUIRE_OPENCL=1 but OpenCL is unavailable: {reason}")
    pytest.skip(f"OpenCL is unavailable: {reason}")
