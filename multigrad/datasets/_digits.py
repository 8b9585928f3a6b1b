"""The UCI handwritten digits (1,797 images of 8x8 pixels), shipped as package data.

See ``data/LICENSE`` for the source, the creators and the licence.
"""

from __future__ import annotations

import gzip
from importlib import resources
from typing import NamedTuple

import numpy as np

from .. import _dtype
from ..utils.data import TensorDataset

_FILE = "digits.csv.gz"
_TEST_EVERY = 5  # every 5th example of each class is held out


class DigitsSplit(NamedTuple):
    """The fixed train/test split of the digits, as two TensorDatasets of ``(image, label)``."""

    train: TensorDataset
    test: TensorDataset


def _read() -> tuple[np.ndarray, np.ndarray]:
    with resources.files(__package__).joinpath("data", _FILE).open("rb") as raw:
        with gzip.open(raw, "rt") as text:
            table = np.loadtxt(text, delimiter=",", dtype=np.int64)
    if table.shape != (1797, 65):
        raise RuntimeError(f"{_FILE} is damaged: expected 1797 rows of 65 integers, got shape {table.shape}; reinstall multigrad")
    return table[:, :64], table[:, 64]


def load_digits(*, dtype=None, device=None) -> DigitsSplit:
    """Return the digits as a fixed train/test split.

    Images are ``(N, 1, 8, 8)`` tensors of ``dtype`` (default float32) with
    pixel counts 0..16 scaled to [0, 1]; labels are int64 in 0..9. The split
    is deterministic and stratified: within each class, in file order, every
    5th example is a test example. That gives 1,442 training and 355 test
    examples, with 34 to 36 test examples per class.
    """
    from .._creation import tensor

    pixels, labels = _read()
    target = _dtype.float32 if dtype is None else _dtype.to_dtype(dtype)
    if not target.is_floating_point:
        raise TypeError(f"load_digits(): dtype must be a floating-point dtype, got {target!r}")
    images = (pixels.reshape(-1, 1, 8, 8) / 16.0).astype(target.np)
    is_test = np.zeros(len(labels), dtype=bool)
    for label in range(10):
        rows = np.flatnonzero(labels == label)
        is_test[rows[_TEST_EVERY - 1::_TEST_EVERY]] = True

    def part(mask: np.ndarray) -> TensorDataset:
        return TensorDataset(tensor(images[mask], device=device), tensor(labels[mask], device=device))

    return DigitsSplit(part(~is_test), part(is_test))
