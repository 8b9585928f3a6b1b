"""Shared fixtures: the PyTorch oracle and the device under test.

Tests that compare with PyTorch take the ``torch`` fixture. It skips when
torch is not installed, unless ``MULTIGRAD_REQUIRE_TORCH=1`` (set by
``.ci/run``) turns a missing oracle into a failure.
"""

from __future__ import annotations

import importlib
import os

import pytest


def import_torch():
    """Return the torch module, or skip (fail under MULTIGRAD_REQUIRE_TORCH=1) when it is missing."""
    try:
        return importlib.import_module("torch")
    except ImportError as error:
        if os.environ.get("MULTIGRAD_REQUIRE_TORCH") == "1":
            pytest.fail(f"PyTorch, the test oracle, is required (MULTIGRAD_REQUIRE_TORCH=1) but failed to import: {error}")
        pytest.skip("PyTorch is not installed; install torch==2.13.0 to run the oracle tests")


@pytest.fixture(scope="session")
def torch():
    return import_torch()
