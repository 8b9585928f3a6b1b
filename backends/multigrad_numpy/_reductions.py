"""Reduction kernels over any set of dimensions."""

from __future__ import annotations

import numpy as np

from ._util import _array, ndarray  # noqa: F401


class ReductionKernels:
    """Mixin of NumpyBackend."""


    def sum(self, x, dims, keepdim):
        return _array(np.sum(x, axis=dims if dims else None, keepdims=keepdim, dtype=x.dtype))

    def mean(self, x, dims, keepdim):
        with np.errstate(invalid="ignore", divide="ignore"):
            return _array(np.mean(x, axis=dims if dims else None, keepdims=keepdim, dtype=x.dtype))
