"""Devices end to end: creating tensors on OpenCL, moving them, mixing devices, and where gradients live."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import multigrad as mg
from multigrad.backend import BackendUnavailableError
from opencl.availability import require_opencl


@pytest.fixture(autouse=True)
def _opencl():
    require_opencl()
    yield
    mg.set_default_device(None)


def test_tensor_on_opencl():
    t = mg.tensor([[1.0, 2.0], [3.0, 4.0]], device="opencl")
    assert t.device == mg.device("opencl", 0)
    assert str(t.device) == "opencl:0"
    assert t.device == "opencl:0"
    assert t.dtype is mg.float32
    np.testing.assert_array_equal(t.numpy(), [[1.0, 2.0], [3.0, 4.0]])


def test_device_spellings():
    for spec in ("opencl", "opencl:0", mg.device("opencl:0"), mg.device("opencl", 0)):
        assert mg.zeros(2, device=spec).device == mg.device("opencl:0")
    with pytest.raises(RuntimeError, match="'opencl:99' does not exist"):
        mg.zeros(2, device="opencl:99")


def test_factories_on_opencl():
    factories = [
        mg.zeros(2, 3, device="opencl"), mg.ones(2, device="opencl"), mg.full((2,), 7, device="opencl"),
        mg.arange(5, device="opencl"), mg.linspace(0, 1, 5, device="opencl"), mg.eye(3, device="opencl"),
        mg.rand(2, device="opencl"), mg.randn(2, device="opencl"), mg.randint(0, 5, (3,), device="opencl"),
        mg.empty(2, device="opencl"),
    ]
    for t in factories:
        assert t.device == "opencl:0"
    like = mg.zeros_like(factories[0])
    assert like.device == "opencl:0"


def test_to_and_back_copies_values_and_dtype():
    source = mg.tensor([1.5, -2.0, 3.25])
    moved = source.to("opencl")
    assert moved.device == "opencl:0"
    assert source.to("opencl:0", mg.float64).dtype is mg.float64
    back = moved.to("numpy")
    assert back.device == "numpy"
    np.testing.assert_array_equal(back.numpy(), [1.5, -2.0, 3.25])
    np.testing.assert_array_equal(moved.cpu().numpy(), [1.5, -2.0, 3.25])
    assert moved.to("opencl") is moved


def test_numpy_returns_a_copy_on_opencl():
    t = mg.zeros(3, device="opencl")
    array = t.numpy()
    array[0] = 5.0
    assert t.tolist() == [0.0, 0.0, 0.0]


def test_mixing_devices_names_both():
    a = mg.ones(2, device="opencl")
    b = mg.ones(2)
    with pytest.raises(RuntimeError, match="opencl:0 and numpy"):
        a + b
    with pytest.raises(RuntimeError, match="numpy and opencl:0"):
        mg.matmul(mg.ones(2, 2), mg.ones(2, 2, device="opencl"))


def test_gradients_live_on_the_tensor_device():
    w = mg.randn(3, 4, device="opencl", requires_grad=True)
    x = mg.randn(4, 2, device="opencl")
    loss = (w @ x).relu().sum()
    loss.backward()
    assert w.grad.device == "opencl:0"
    expected = ((w.detach().cpu() @ x.cpu()) > 0).to(mg.float32) @ x.cpu().t()
    np.testing.assert_allclose(w.grad.numpy(), expected.numpy(), rtol=1e-5)


def test_gradient_flows_back_across_devices():
    a = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a.to("opencl")
    (b * b).sum().backward()
    assert a.grad.device == "numpy"
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 4.0, 6.0])

    c = mg.tensor([1.0, 2.0], device="opencl", requires_grad=True)
    (c.cpu() * 3).sum().backward()
    assert c.grad.device == "opencl:0"
    np.testing.assert_array_equal(c.grad.numpy(), [3.0, 3.0])


def test_engine_paths_create_tensors_on_the_device():
    x = mg.tensor([1.0, -2.0], device="opencl", requires_grad=True)
    y = x * 2
    (gx,) = mg.autograd.grad(y.sum(), x)
    assert gx.device == "opencl:0"
    unused = mg.tensor([1.0], device="opencl", requires_grad=True)
    _, gu = mg.autograd.grad((x * x).sum(), [x, unused], materialize_grads=True)
    assert gu.device == "opencl:0"
    assert gu.tolist() == [0.0]
    y = x * 3
    y.retain_grad()
    y.backward(mg.ones(2, device="opencl"), retain_graph=True)
    assert y.grad.device == "opencl:0"
    with pytest.raises(RuntimeError, match="expected device opencl:0 but got numpy"):
        y.backward(mg.ones(2))
    (g2,) = mg.autograd.grad((x * x).sum(), x, create_graph=True)
    (gg,) = mg.autograd.grad(g2.sum(), x)
    assert gg.device == "opencl:0"
    assert gg.tolist() == [2.0, 2.0]


def test_accumulated_grad_stays_on_device():
    x = mg.tensor([1.0, 2.0], device="opencl", requires_grad=True)
    for _ in range(2):
        (x * x).sum().backward()
    assert x.grad.device == "opencl:0"
    assert x.grad.tolist() == [4.0, 8.0]


def test_indexing_and_setitem_on_opencl():
    t = mg.arange(12, device="opencl").reshape(3, 4).to(mg.float32).requires_grad_()
    index = mg.tensor([2, 0, 2], device="opencl")
    picked = t[index, 1:]
    assert picked.device == "opencl:0"
    assert picked.tolist() == [[9.0, 10.0, 11.0], [1.0, 2.0, 3.0], [9.0, 10.0, 11.0]]
    picked.sum().backward()
    assert t.grad.tolist() == [[0, 1, 1, 1], [0, 0, 0, 0], [0, 2, 2, 2]]
    mask = t.detach() > 8
    assert t.detach()[mask].tolist() == [9.0, 10.0, 11.0]
    u = mg.zeros(3, 4, device="opencl")
    u[mask] = 1.0
    u[0, [1, 3]] = mg.tensor([5.0, 6.0], device="opencl")
    assert u.tolist() == [[0, 5, 0, 6], [0, 0, 0, 0], [0, 1, 1, 1]]


def test_set_default_device():
    mg.set_default_device("opencl")
    assert mg.get_default_device() == "opencl:0"
    assert mg.zeros(2).device == "opencl:0"
    assert mg.tensor([1, 2]).device == "opencl:0"
    mg.set_default_device(None)
    assert mg.zeros(2).device == "numpy"


def test_default_device_from_environment():
    code = "import multigrad as mg; print(mg.zeros(2).device, mg.tensor([1.0]).device)"
    env = dict(os.environ, MULTIGRAD_DEVICE="opencl")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["opencl:0", "opencl:0"]


def test_float16_error_names_op():
    t = mg.ones(2, device="opencl")
    with pytest.raises(TypeError, match=r"to\(\): dtype .*float16.* not supported on device opencl:0"):
        t.half()
    with pytest.raises(TypeError, match="float16 is not supported on opencl:0"):
        mg.zeros(2, dtype=mg.float16, device="opencl")


def test_float64_without_fp64_error():
    from multigrad._creation import get_backend

    backend = get_backend("opencl")
    t = mg.ones(2, device="opencl")
    saved = backend.has_fp64
    backend.has_fp64 = False
    try:
        with pytest.raises(TypeError, match=r"to\(\): dtype .*float64.* not supported on device opencl:0"):
            t.double()
        with pytest.raises(TypeError, match="float64 is not supported on opencl:0 .*cl_khr_fp64"):
            mg.zeros(2, dtype=mg.float64, device="opencl")
        with pytest.raises(TypeError, match=r"sum\(\): dtype .*float64.* not supported on device opencl:0"):
            t.sum(dtype=mg.float64)
    finally:
        backend.has_fp64 = saved


def test_missing_kernel_names_op_and_backend():
    from multigrad._creation import get_backend

    backend = get_backend("opencl")
    with pytest.raises(NotImplementedError, match="op 'no_such_kernel' is not implemented by the 'opencl' backend"):
        backend.no_such_kernel


def test_unavailable_error_type_is_public():
    assert issubclass(BackendUnavailableError, RuntimeError)


def test_cpu_scalars_and_indices_work_with_opencl_tensors(torch):
    x = mg.tensor([1.0, 2.0, 3.0], device="opencl")
    assert (x * mg.tensor(2.0)).tolist() == [2.0, 4.0, 6.0]
    assert (mg.tensor(2.0) * x).device == x.device
    assert x[mg.tensor([0, 2])].tolist() == [1.0, 3.0]
    with pytest.raises(RuntimeError, match="same device"):
        x * mg.ones(3)


def test_stride_on_opencl_matches_numpy():
    views = [lambda t: t, lambda t: t.transpose(0, 2), lambda t: t[:, ::2], lambda t: t[0].expand(5, 3, 4)]
    for make_view in views:
        on_opencl = make_view(mg.zeros(2, 3, 4, device="opencl"))
        on_numpy = make_view(mg.zeros(2, 3, 4))
        assert on_opencl.stride() == on_numpy.stride()
