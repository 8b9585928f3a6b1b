"""Run one registry check under pytest, shared by the registry suite and the OpenCL conformance run."""

from __future__ import annotations

import pytest

from multigrad.testing import SkipCase


def run_or_skip(check, *args) -> None:
    """Call ``check(*args)``, reporting a case the check cannot run as a pytest skip with its reason."""
    try:
        check(*args)
    except SkipCase as skip:
        pytest.skip(skip.reason)
