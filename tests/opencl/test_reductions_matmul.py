"""Reductions, scans and matmul against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from .layouts import LAYOUTS

NUMPY_REDUCE = {"sum": np.sum, "prod": np.prod, "amax": np.max, "amin": np.min, "all": np.all, "any": np.any}
DIMS = [(), (0,), (1,), (2,), (0, 2), (2, 0), (1, 2)]


@pytest.mark.parametrize("name", sorted(NUMPY_REDUCE))
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_reduce_dims_and_layouts(backend, rng, name, layout) -> None:
    values = rng.uniform(0.5, 1.5, (3, 4, 5)).astype(np.float32)
    if name in ("all", "any"):
        values = (values > 1.3).astype(np.float32)
    expected_in, device = LAYOUTS[layout](backend, values)
    for dims in DIMS:
        for keepdim in (False, True):
            result = backend.to_numpy(getattr(backend, name)(device, dims, keepdim))
            expected = NUMPY_REDUCE[name](expected_in, axis=dims or None, keepdims=keepdim)
            assert result.shape == np.shape(expected), (dims, keepdim)
            assert result.dtype == np.asarray(expected).dtype
            np.testing.assert_allclose(result, expected, rtol=1e-5, err_msg=str((dims, keepdim)))


@pytest.mark.parametrize("name", ["sum", "prod", "amax", "amin"])
@pytest.mark.parametrize("dtype", ["int32", "uint8", "bool", "int64"])
def test_reduce_integer_dtypes(backend, rng, name, dtype) -> None:
    values = rng.integers(0, 3, (6, 7)).astype(dtype)
    for dims in [(), (0,), (1,)]:
        result = backend.to_numpy(getattr(backend, name)(backend.from_numpy(values), dims))
        expected = NUMPY_REDUCE[name](values, axis=dims or None)
        assert result.dtype == np.asarray(expected).dtype
        np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("shape, dims", [((100_000,), ()), ((3, 40_000), (1,)), ((300, 300), ()),
                                         ((20_000, 4), (0,))], ids=str)
def test_reduce_large_split_in_chunks(backend, rng, float_dtype, shape, dims) -> None:
    values = rng.standard_normal(shape).astype(float_dtype)
    device = backend.from_numpy(values)
    for name in ("sum", "amax", "amin"):
        result = backend.to_numpy(getattr(backend, name)(device, dims))
        np.testing.assert_allclose(result, NUMPY_REDUCE[name](values, axis=dims or None), rtol=1e-4, atol=1e-3)
    assert bool(backend.to_numpy(backend.any(backend.gt(device, 3.0), dims)).all()) == bool(
        np.any(values > 3.0, axis=dims or None).all())


def test_reduce_nan_and_empty(backend) -> None:
    values = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]], np.float32)
    device = backend.from_numpy(values)
    np.testing.assert_array_equal(backend.to_numpy(backend.amax(device, (1,))), np.max(values, axis=1))
    np.testing.assert_array_equal(backend.to_numpy(backend.argmax(device, 1)), np.argmax(values, axis=1))
    empty = backend.from_numpy(np.zeros((0, 3), np.float32))
    np.testing.assert_array_equal(backend.to_numpy(backend.sum(empty, (0,))), np.zeros(3, np.float32))
    np.testing.assert_array_equal(backend.to_numpy(backend.prod(empty)), np.float32(1))
    assert backend.to_numpy(backend.sum(empty, (1,))).shape == (0,)
    with pytest.raises(RuntimeError, match="amax"):
        backend.amax(empty, (0,))
    scalar = backend.from_numpy(np.array(2.5, np.float32))
    assert backend.to_numpy(backend.sum(scalar)) == 2.5


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_arg_reduce(backend, rng, name, layout) -> None:
    values = rng.integers(0, 5, (4, 5, 6)).astype(np.float32)  # many ties: the first index must win
    expected_in, device = LAYOUTS[layout](backend, values)
    reference = getattr(np, name)
    for dim in (None, 0, 1, 2, -1):
        result = backend.to_numpy(getattr(backend, name)(device, dim))
        expected = reference(expected_in, axis=dim)
        assert result.dtype == np.int64
        np.testing.assert_array_equal(result, expected, err_msg=str(dim))
    kept = backend.to_numpy(getattr(backend, name)(device, 1, keepdim=True))
    np.testing.assert_array_equal(kept, reference(expected_in, axis=1, keepdims=True))


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_scan(backend, rng, name, layout) -> None:
    values = rng.uniform(0.5, 1.5, (3, 4, 5)).astype(np.float32)
    expected_in, device = LAYOUTS[layout](backend, values)
    for dim in (0, 1, 2, -1):
        result = backend.to_numpy(getattr(backend, name)(device, dim))
        np.testing.assert_allclose(result, getattr(np, name)(expected_in, axis=dim), rtol=1e-5)
    ints = np.arange(12, dtype=np.int32).reshape(3, 4)
    result = backend.to_numpy(getattr(backend, name)(backend.from_numpy(ints), 1))
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, getattr(np, name)(ints, axis=1))


@pytest.mark.parametrize("shapes", [((17, 9), (9, 33)), ((8, 16), (16, 16)), ((1, 5), (5, 1)), ((3, 0), (0, 4)),
                                    ((5,), (5, 7)), ((6, 5), (5,)), ((5,), (5,)), ((2, 3, 4, 5), (5, 6)),
                                    ((3, 1, 4, 5), (2, 5, 3)), ((0, 4, 5), (5, 2))], ids=str)
def test_matmul_shapes(backend, rng, float_dtype, shapes) -> None:
    a = rng.standard_normal(shapes[0]).astype(float_dtype)
    b = rng.standard_normal(shapes[1]).astype(float_dtype)
    result = backend.to_numpy(backend.matmul(backend.from_numpy(a), backend.from_numpy(b)))
    expected = a @ b
    assert result.shape == expected.shape and result.dtype == expected.dtype
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4)


def test_matmul_transposed_and_integer(backend, rng) -> None:
    a = rng.standard_normal((20, 30)).astype(np.float32)
    b = rng.standard_normal((40, 30)).astype(np.float32)
    result = backend.matmul(backend.from_numpy(a), backend.transpose(backend.from_numpy(b), 0, 1))
    np.testing.assert_allclose(backend.to_numpy(result), a @ b.T, rtol=1e-4, atol=1e-4)
    ints = rng.integers(-5, 5, (7, 9)).astype(np.int64)
    np.testing.assert_array_equal(
        backend.to_numpy(backend.matmul(backend.from_numpy(ints), backend.from_numpy(ints.T.copy()))), ints @ ints.T)


def test_matmul_errors(backend) -> None:
    a = backend.full((2, 3), 1.0, np.float32)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)"):
        backend.matmul(a, a)
    with pytest.raises(TypeError, match="same dtype"):
        backend.matmul(a, backend.full((3, 2), 1, np.int32))
