"""Linear algebra kernels."""

from __future__ import annotations

import numpy as np

from ._util import _array


class LinalgKernels:
    """Mixin of NumpyBackend."""


    def matmul(self, x, y):
        return _array(np.matmul(x, y))

    def diagonal(self, x, offset, dim1, dim2):
        view = np.diagonal(x, offset, dim1, dim2)
        # np.diagonal returns a read-only view; multigrad's diagonal is a writable view.
        view.flags.writeable = x.flags.writeable
        return view

    def diagonal_backward(self, grad, shape, offset, dim1, dim2):
        out = np.zeros(shape, dtype=grad.dtype)
        self.diagonal(out, offset, dim1, dim2)[...] = grad
        return out

    def tril(self, x, diagonal):
        return _array(np.tril(x, diagonal))

    def triu(self, x, diagonal):
        return _array(np.triu(x, diagonal))
