"""Fixtures for the OpenCL backend tests.

The tests skip when no OpenCL platform is present, unless MULTIGRAD_REQUIRE_OPENCL=1
is set, which turns a missing platform into a failure.
"""

from __future__ import annotations

import numpy as np
import pytest

from multigrad_opencl import OpenCLBackend

from .availability import require_opencl


@pytest.fixture(scope="session")
def backend() -> OpenCLBackend:
    require_opencl()
    return OpenCLBackend(0)


@pytest.fixture(params=["float32", "float64"])
def float_dtype(request, backend) -> np.dtype:
    dtype = np.dtype(request.param)
    if not backend.supports_dtype(dtype):
        pytest.skip(f"{dtype} is not supported on {backend.device_name}")
    return dtype


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
