"""Every kernel that ops.yaml names exists on OpenCLBackend, with the NumPy backend's parameters."""

from __future__ import annotations

import inspect
import pathlib

import pytest

from multigrad_codegen import load_registry
from multigrad_numpy.backend import NumpyBackend
from multigrad_opencl import OpenCLBackend

REGISTRY = pathlib.Path(__file__).resolve().parents[2] / "ops.yaml"
KERNELS = sorted({op.kernel for op in load_registry(str(REGISTRY)).ops if op.kernel})


def _parameters(function) -> list[str]:
    return [p.name for p in inspect.signature(function).parameters.values()][1:]


def _class_attributes(cls: type) -> dict:
    """Return the attributes that ``cls`` and its bases define, as attribute lookup finds them."""
    merged: dict = {}
    for base in reversed(cls.__mro__):
        merged.update(vars(base))
    return merged


def test_every_registry_kernel_exists() -> None:
    attributes = _class_attributes(OpenCLBackend)
    missing = [name for name in KERNELS if not callable(attributes.get(name))]
    assert missing == []


@pytest.mark.parametrize("name", KERNELS)
def test_kernel_takes_numpy_backend_arguments(name: str) -> None:
    # The core passes kernel arguments by position, so only their number must agree.
    reference = getattr(NumpyBackend, name, None)
    if reference is None:
        pytest.skip(f"the NumPy backend has no kernel '{name}' to compare with")
    kernel = getattr(OpenCLBackend, name)
    required = [p for p in inspect.signature(kernel).parameters.values()
                if p.default is inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD][1:]
    assert len(required) <= len(_parameters(reference)) <= len(_parameters(kernel))

