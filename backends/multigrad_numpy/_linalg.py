"""Linear algebra kernels."""

from __future__ import annotations

import numpy as np

from ._util import _array, ndarray  # noqa: F401


class LinalgKernels:
    """Mixin of NumpyBackend."""


    def matmul(self, x, y):
        return _array(np.matmul(x, y))
