"""gather, index_select, take, scatter, scatter_add and masked_fill against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from .layouts import LAYOUTS


def _scatter_reference(values, dim, index, src, accumulate):
    out = values.copy()
    for position in np.ndindex(index.shape):
        target = list(position)
        target[dim] = index[position] % values.shape[dim]
        source = src if np.isscalar(src) else src[position]
        if accumulate:
            out[tuple(target)] += source
        else:
            out[tuple(target)] = source
    return out


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather(backend, rng, layout, dim) -> None:
    values = rng.standard_normal((4, 5)).astype(np.float32)
    expected_in, device = LAYOUTS[layout](backend, values)
    index = rng.integers(-values.shape[dim], values.shape[dim], (3, 4))
    result = backend.gather(device, dim, backend.from_numpy(index))
    # gather reads only the leading index.shape[d] entries of the other dims.
    window = tuple(slice(None) if d == dim % 2 else slice(0, index.shape[d]) for d in range(2))
    np.testing.assert_array_equal(backend.to_numpy(result), np.take_along_axis(expected_in[window], index, axis=dim))


def test_index_select_and_take(backend, rng, float_dtype) -> None:
    values = rng.standard_normal((4, 5, 6)).astype(float_dtype)
    device = backend.transpose(backend.from_numpy(values), 0, 2)
    index = np.array([5, 0, -1, 2, 2])
    result = backend.index_select(device, 0, backend.from_numpy(index))
    np.testing.assert_array_equal(backend.to_numpy(result), values.transpose(2, 1, 0)[index])
    result = backend.index_select(device, 2, backend.from_numpy(np.array([3, 1], np.int32)))
    np.testing.assert_array_equal(backend.to_numpy(result), values.transpose(2, 1, 0)[:, :, [3, 1]])
    flat_index = rng.integers(-120, 120, (3, 2, 2))
    result = backend.take(device, backend.from_numpy(flat_index))
    np.testing.assert_array_equal(backend.to_numpy(result), np.take(values.transpose(2, 1, 0), flat_index))


def test_index_out_of_range_raises(backend) -> None:
    device = backend.full((3, 4), 1.0, np.float32)
    with pytest.raises(IndexError, match="index out of range"):
        backend.index_select(device, 0, backend.from_numpy(np.array([0, 3])))
    with pytest.raises(IndexError, match="index out of range"):
        backend.take(device, backend.from_numpy(np.array([-13])))
    with pytest.raises(IndexError, match="index out of range"):
        backend.scatter(device, 1, backend.from_numpy(np.array([[4]])), 2.0)
    # The flag is cleared, so a valid call afterwards succeeds.
    backend.gather(device, 1, backend.from_numpy(np.array([[3]])))


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter(backend, rng, accumulate, dim) -> None:
    values = rng.standard_normal((4, 5)).astype(np.float32)
    index = rng.integers(0, values.shape[dim], (3, 4))  # repeated indices along dim
    src = rng.standard_normal((4, 5)).astype(np.float32)
    device_src = backend.transpose(backend.from_numpy(np.ascontiguousarray(src.T)), 0, 1)
    op = backend.scatter_add if accumulate else backend.scatter
    result = op(backend.from_numpy(values), dim, backend.from_numpy(index), device_src)
    expected = _scatter_reference(values, dim, index, src, accumulate)
    np.testing.assert_allclose(backend.to_numpy(result), expected, rtol=1e-6)
    scalar_result = op(backend.from_numpy(values), dim, backend.from_numpy(index), 1.5)
    np.testing.assert_allclose(backend.to_numpy(scalar_result),
                               _scatter_reference(values, dim, index, 1.5, accumulate), rtol=1e-6)


def test_masked_fill(backend, rng) -> None:
    values = rng.standard_normal((3, 4)).astype(np.float32)
    mask = rng.random(4) < 0.5
    result = backend.masked_fill(backend.from_numpy(values), backend.from_numpy(mask), -1.0)
    np.testing.assert_array_equal(backend.to_numpy(result), np.where(mask, np.float32(-1.0), values))
    value = backend.from_numpy(np.array(7.0, np.float32))
    result = backend.masked_fill(backend.from_numpy(values), backend.from_numpy(mask), value)
    np.testing.assert_array_equal(backend.to_numpy(result), np.where(mask, np.float32(7.0), values))
    with pytest.raises(TypeError, match="boolean masks"):
        backend.masked_fill(backend.from_numpy(values), backend.from_numpy(mask.astype(np.int32)), 0.0)


# -- advanced indexing: getitem, setitem and index_backward with index arrays ---------------

_ROWS = np.array([[0, 2], [3, -1]])
_COLS = np.array([1, 3])
_ADVANCED_INDICES = {
    "int array": (_ROWS,),
    "slice then array": (slice(1, 3), _COLS),
    "arrays split by a slice": (_ROWS, slice(None), _COLS[:1]),
    "int next to array": (0, slice(None), _COLS),
    "None, array, int": (None, _COLS, 2),
    "2-d mask": "mask",
    "ellipsis then array": (Ellipsis, np.array([5, 0, 0])),
    "1-d mask on dim 1": "mask_row",
    "repeated indices": (np.array([1, 1, 2]),),
    "int and 0-d array": (0, np.array(2)),
}


def _numpy_index(name, values):
    index = _ADVANCED_INDICES[name]
    if index == "mask":
        return (values[:, :, 0] > 0,)
    if index == "mask_row":
        return (slice(None), values[0, :, 0] > 0)
    return index


def _device_index(backend, index):
    return tuple(backend.from_numpy(item.astype(np.int64) if item.dtype.kind == "i" else item)
                 if isinstance(item, np.ndarray) else item for item in index)


@pytest.mark.parametrize("name", sorted(_ADVANCED_INDICES))
def test_advanced_getitem(backend, rng, name) -> None:
    values = rng.standard_normal((4, 5, 6)).astype(np.float32)
    index = _numpy_index(name, values)
    result = backend.to_numpy(backend.getitem(backend.from_numpy(values), _device_index(backend, index)))
    expected = values[index]
    assert result.shape == expected.shape
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("name", sorted(_ADVANCED_INDICES))
def test_advanced_index_backward_accumulates(backend, rng, name) -> None:
    values = rng.standard_normal((4, 5, 6)).astype(np.float32)
    index = _numpy_index(name, values)
    grad = rng.standard_normal(values[index].shape).astype(np.float32)
    result = backend.index_backward(backend.from_numpy(grad), values.shape, _device_index(backend, index))
    expected = np.zeros_like(values)
    np.add.at(expected, index, grad)
    np.testing.assert_allclose(backend.to_numpy(result), expected, rtol=1e-6)


@pytest.mark.parametrize("name", sorted(_ADVANCED_INDICES))
def test_advanced_setitem(backend, rng, name) -> None:
    values = rng.standard_normal((4, 5, 6)).astype(np.float32)
    index = _numpy_index(name, values)
    update = rng.standard_normal(values[index].shape).astype(np.float32)
    for source, device_source in ((7.0, 7.0), (update, backend.from_numpy(update))):
        expected = values.copy()
        expected[index] = source
        target = backend.from_numpy(values)
        backend.setitem(target, _device_index(backend, index), device_source)
        np.testing.assert_array_equal(backend.to_numpy(target), expected)


def test_advanced_index_out_of_range(backend) -> None:
    target = backend.from_numpy(np.zeros((3, 4), np.float32))
    with pytest.raises(IndexError, match=r"outside \[-3, 3\) for dimension 0 with size 3"):
        backend.getitem(target, (backend.from_numpy(np.array([0, 3])),))


def test_nonzero_matches_argwhere(backend, rng) -> None:
    values = rng.random((3, 4, 5)) < 0.4
    result = backend.to_numpy(backend.nonzero(backend.from_numpy(values)))
    np.testing.assert_array_equal(result, np.argwhere(values))
    assert backend.nonzero(backend.from_numpy(np.zeros((2, 2), np.float32))).shape == (0, 2)
