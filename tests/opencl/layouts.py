"""Input layouts shared by the tests: each builds the same values as a NumPy array and a device view."""

from __future__ import annotations

from typing import Callable

import numpy as np

from multigrad_opencl import CLArray, OpenCLBackend

Layout = Callable[[OpenCLBackend, np.ndarray], tuple[np.ndarray, CLArray]]


def contiguous(backend: OpenCLBackend, values: np.ndarray) -> tuple[np.ndarray, CLArray]:
    return values, backend.from_numpy(values)


def transposed(backend: OpenCLBackend, values: np.ndarray) -> tuple[np.ndarray, CLArray]:
    # Store the transpose, then transpose the view back: same values, swapped strides.
    stored = backend.from_numpy(np.array(values.T, order="C"))
    return values, backend.permute(stored, tuple(reversed(range(values.ndim))))


def sliced(backend: OpenCLBackend, values: np.ndarray) -> tuple[np.ndarray, CLArray]:
    # Interleave the values with junk and take every second element of each dim.
    padded = np.full(tuple(2 * s + 1 for s in values.shape), -7, values.dtype)
    padded[tuple(slice(1, None, 2) for _ in values.shape)] = values
    view = backend.getitem(backend.from_numpy(padded), tuple(slice(1, None, 2) for _ in values.shape))
    return values, view


def broadcast(backend: OpenCLBackend, values: np.ndarray) -> tuple[np.ndarray, CLArray]:
    # Keep one row of the values and expand it back to the full shape with stride 0.
    row = values[:1] if values.ndim else values
    expanded = np.broadcast_to(row, values.shape)
    return np.array(expanded), backend.expand(backend.from_numpy(row), values.shape)


LAYOUTS: dict[str, Layout] = {
    "contiguous": contiguous, "transposed": transposed, "sliced": sliced, "broadcast": broadcast,
}

SHAPES = [(), (0,), (7,), (5, 6), (3, 4, 5), (2, 3, 2, 3)]
