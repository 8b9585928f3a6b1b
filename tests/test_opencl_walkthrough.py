"""The autograd walkthrough (tests/test_walkthrough.py) with OpenCL as the default device.

The walkthrough file runs unchanged in a subprocess with MULTIGRAD_DEVICE=opencl.
Its two repr tests are deselected there, because a tensor on a device other
than the default CPU-like one prints ``device='opencl:0'``, as PyTorch prints
``device='cuda:0'``; the repr is checked here instead.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

import multigrad as mg
from opencl.availability import require_opencl

TESTS = pathlib.Path(__file__).resolve().parent
REPR_TESTS = ["test_exp_repr", "test_graph_before_backward"]


@pytest.fixture(autouse=True)
def _opencl():
    require_opencl()


def test_walkthrough_file_passes_on_opencl():
    deselect = [arg for name in REPR_TESTS for arg in ("--deselect", f"tests/test_walkthrough.py::{name}")]
    env = dict(os.environ, MULTIGRAD_DEVICE="opencl")
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_walkthrough.py", *deselect],
        capture_output=True, text=True, env=env, cwd=TESTS.parent, timeout=600,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert " failed" not in out.stdout.splitlines()[-1]


def test_walkthrough_graph_lives_on_opencl():
    sys.path.insert(0, str(TESTS))
    try:
        from test_walkthrough import build_graph
    finally:
        sys.path.remove(str(TESTS))
    mg.set_default_device("opencl")
    try:
        weights, layers = build_graph()
    finally:
        mg.set_default_device(None)
    loss = layers[-1]
    loss.backward()
    for t in (*weights, *layers):
        assert t.device == "opencl:0"
    for w in weights:
        assert w.grad.device == "opencl:0"
    # loss = mean((w1 + w2) * w1 * w3) over ones, at w1, w2, w3 = 2, 3, 4.
    assert [w.grad.item() for w in weights] == [28.0, 8.0, 10.0]
    assert loss.item() == 40.0


def test_walkthrough_reprs_name_the_device():
    a = mg.tensor(2.0, device="opencl", requires_grad=True)
    assert repr(a.exp()) == "tensor(7.3891, device='opencl:0', grad_fn=<ExpBackward0>)"
    assert repr(a) == "tensor(2., device='opencl:0', requires_grad=True)"
    assert repr(a.data) == "tensor(2., device='opencl:0')"
