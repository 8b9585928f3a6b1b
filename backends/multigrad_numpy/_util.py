"""Helpers shared by the NumPy kernel modules."""

from __future__ import annotations

import numpy as np

ndarray = np.ndarray
_asarray = np.asarray


def _array(value):
    """Return ``value`` as an ndarray: NumPy ufuncs give scalars for 0-d input."""
    return value if value.__class__ is ndarray else _asarray(value)
