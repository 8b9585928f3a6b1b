"""Conversion, fills, copies, casts, views, availability and dtype errors."""

from __future__ import annotations

import numpy as np
import pytest

from multigrad.backend import BackendUnavailableError
from multigrad_opencl import OpenCLBackend

from .layouts import LAYOUTS, SHAPES


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int16", "int32", "int64", "uint64", "float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_numpy_round_trip(backend, rng, dtype, shape) -> None:
    values = (rng.standard_normal(shape) * 50).astype(dtype)
    result = backend.to_numpy(backend.from_numpy(values))
    assert result.dtype == values.dtype and result.shape == values.shape
    np.testing.assert_array_equal(result, values)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_to_numpy_of_views(backend, rng, layout) -> None:
    expected, device = LAYOUTS[layout](backend, rng.standard_normal((3, 4, 5)).astype(np.float32))
    np.testing.assert_array_equal(backend.to_numpy(device), expected)


def test_full_and_arange(backend) -> None:
    np.testing.assert_array_equal(backend.to_numpy(backend.full((2, 3), 7.5, np.float32)), np.full((2, 3), 7.5, np.float32))
    np.testing.assert_array_equal(backend.to_numpy(backend.full((4,), True, np.bool_)), np.ones(4, bool))
    assert backend.to_numpy(backend.full((0, 3), 1, np.int32)).shape == (0, 3)
    for start, end, step, dtype in [(0, 10, 1, np.int64), (2, -7, -3, np.int32), (0, 1, 0.1, np.float32),
                                    (5, 5, 1, np.float64), (-1.5, 2, 0.5, np.float64)]:
        result = backend.to_numpy(backend.arange(start, end, step, np.dtype(dtype)))
        np.testing.assert_allclose(result, np.arange(start, end, step, dtype), rtol=1e-6)
    with pytest.raises(ValueError, match="step must be nonzero"):
        backend.arange(0, 1, 0, np.dtype(np.float32))


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_assign_into_strided_view(backend, rng, layout) -> None:
    base = np.zeros((6, 8), np.float32)
    device = backend.from_numpy(base)
    source = rng.standard_normal((3, 4)).astype(np.float32)
    expected_source, device_source = LAYOUTS[layout](backend, source)
    backend.assign(backend.getitem(device, (slice(None, None, 2), slice(1, None, 2))), device_source)
    base[::2, 1::2] = expected_source
    np.testing.assert_array_equal(backend.to_numpy(device), base)


def test_assign_scalar_and_broadcast(backend) -> None:
    device = backend.from_numpy(np.zeros((3, 4), np.int32))
    backend.assign(backend.getitem(device, 1), 5)
    backend.assign(backend.getitem(device, (slice(None), 0)), backend.from_numpy(np.array([1, 2, 3], np.int32)))
    expected = np.zeros((3, 4), np.int32)
    expected[1] = 5
    expected[:, 0] = [1, 2, 3]
    np.testing.assert_array_equal(backend.to_numpy(device), expected)


def test_assign_overlapping_source(backend) -> None:
    values = np.arange(10, dtype=np.float32)
    device = backend.from_numpy(values)
    backend.assign(backend.getitem(device, slice(1, None)), backend.getitem(device, slice(None, 9)))
    values[1:] = values[:9].copy()
    np.testing.assert_array_equal(backend.to_numpy(device), values)


def test_setitem(backend) -> None:
    values = np.zeros((4, 5), np.float32)
    device = backend.from_numpy(values)
    backend.setitem(device, (Ellipsis, slice(0, 5, 2)), 3.0)
    backend.setitem(device, (2, None), backend.from_numpy(np.arange(5, dtype=np.float32)))
    values[..., 0:5:2] = 3.0
    values[2, None] = np.arange(5)
    np.testing.assert_array_equal(backend.to_numpy(device), values)


@pytest.mark.parametrize("source, target", [("float32", "int32"), ("float64", "float32"), ("int64", "float64"),
                                            ("float32", "bool"), ("bool", "float32"), ("int32", "uint8")])
def test_cast(backend, source, target) -> None:
    values = np.array([-2.75, -1, 0, 0.5, 1, 3.25, 100], dtype=source)
    result = backend.to_numpy(backend.cast(backend.from_numpy(values), np.dtype(target)))
    assert result.dtype == np.dtype(target)
    np.testing.assert_array_equal(result, values.astype(target))


def test_clone_contiguous_and_shares_memory(backend, rng) -> None:
    device = backend.from_numpy(rng.standard_normal((4, 6)).astype(np.float32))
    transposed = backend.transpose(device, 0, 1)
    assert backend.contiguous(device) is device
    copy = backend.contiguous(transposed)
    assert copy.is_contiguous and not backend.shares_memory(copy, device)
    assert backend.shares_memory(transposed, device)
    assert not backend.shares_memory(backend.getitem(device, 0), backend.getitem(device, 1))
    assert backend.shares_memory(backend.getitem(device, (slice(None), 0)), backend.getitem(device, 1))
    np.testing.assert_array_equal(backend.to_numpy(backend.clone(transposed)), backend.to_numpy(device).T)


def test_views_alias_and_match_numpy(backend, rng) -> None:
    values = rng.standard_normal((2, 3, 4)).astype(np.float32)
    device = backend.from_numpy(values)
    cases = [
        (backend.view(device, (6, -1)), values.reshape(6, 4)),
        (backend.permute(device, (2, 0, 1)), values.transpose(2, 0, 1)),
        (backend.getitem(device, (1, slice(None, None, 2), None, Ellipsis)), values[1, ::2, None, ...]),
        (backend.getitem(device, (Ellipsis, -1)), values[..., -1]),
        (backend.expand(backend.getitem(device, (slice(None), slice(0, 1))), (5, 2, 3, 4)),
         np.broadcast_to(values[:, :1], (5, 2, 3, 4))),
        (backend.as_strided(device, (3, 3), (4, 1), 1), np.lib.stride_tricks.as_strided(
            values.reshape(-1)[1:], (3, 3), (16, 4))),
        (backend.diagonal(device, 1, 1, 2), np.diagonal(values, 1, 1, 2)),
        (backend.diagonal(device, -1, 2, 1), np.diagonal(values, -1, 2, 1)),
        (backend.squeeze(backend.unsqueeze(device, 1)), values),
        (backend.reshape(backend.transpose(device, 0, 2), (12, 2)), values.transpose(2, 1, 0).reshape(12, 2)),
    ]
    for view, expected in cases:
        np.testing.assert_array_equal(backend.to_numpy(view), expected)
    backend.assign(backend.getitem(backend.permute(device, (2, 0, 1)), 0), 9.0)
    values[..., 0] = 9.0
    np.testing.assert_array_equal(backend.to_numpy(device), values)


def test_view_errors(backend) -> None:
    device = backend.full((4, 6), 0.0, np.float32)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        backend.view(backend.transpose(device, 0, 1), (24,))
    with pytest.raises(RuntimeError, match="invalid for input of size 24"):
        backend.view(device, (5, -1))
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 0 with size 4"):
        backend.getitem(device, 4)
    with pytest.raises(ValueError, match="step must be greater than zero"):
        backend.getitem(device, slice(None, None, -1))
    with pytest.raises(RuntimeError, match="expanded size"):
        backend.expand(device, (4, 7))
    with pytest.raises(RuntimeError, match="bytes"):
        backend.as_strided(device, (5, 6), (6, 1))


def test_unsupported_dtype_names_op_dtype_and_device(backend) -> None:
    assert not backend.supports_dtype(np.dtype(np.float16))
    with pytest.raises(TypeError, match=r"from_numpy: dtype float16 is not supported on opencl:0"):
        backend.from_numpy(np.zeros(3, np.float16))
    with pytest.raises(TypeError, match=r"full: dtype complex64 is not supported on opencl:0"):
        backend.full((2,), 0, np.dtype(np.complex64))


def test_float64_rejected_without_fp64(backend) -> None:
    device = backend.from_numpy(np.ones(3, np.float32))
    saved = backend.has_fp64
    backend.has_fp64 = False
    try:
        assert not backend.supports_dtype(np.dtype(np.float64))
        with pytest.raises(TypeError, match=r"cast: dtype float64 is not supported on opencl:0 .*cl_khr_fp64"):
            backend.cast(device, np.dtype(np.float64))
    finally:
        backend.has_fp64 = saved


def test_mixing_devices_raises(backend) -> None:
    other = OpenCLBackend(0)
    with pytest.raises(ValueError, match="expected all arrays on one device"):
        backend.add(backend.full((2,), 1.0, np.float32), other.full((2,), 1.0, np.float32))


def test_missing_device_index_raises(backend) -> None:
    with pytest.raises(BackendUnavailableError, match="opencl:99"):
        OpenCLBackend(99)


def test_unavailable_without_platform(monkeypatch) -> None:
    monkeypatch.setattr(OpenCLBackend, "_devices_cache", [])
    monkeypatch.setattr(OpenCLBackend, "_devices_error", "no OpenCL platform was found (test)")
    available, reason = OpenCLBackend.availability()
    assert not available
    assert "apt-get install pocl-opencl-icd ocl-icd-libopencl1" in reason
    assert 'pip install -e ".[opencl]"' in reason
    with pytest.raises(BackendUnavailableError, match="opencl:0"):
        OpenCLBackend(0)


def test_plugin_returns_backend_class() -> None:
    from multigrad_opencl.plugin import multigrad_backends
    assert multigrad_backends() == [OpenCLBackend]


def test_opencl_errors_carry_cl_names() -> None:
    from multigrad_opencl._cl import error_name
    assert error_name(-54) == "CL_INVALID_WORK_GROUP_SIZE"
    assert error_name(-12345) == "CL_-12345"
