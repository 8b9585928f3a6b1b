"""View, copy and indexing kernels."""

from __future__ import annotations

import numpy as np

from ._util import _array, ndarray  # noqa: F401


class ShapeKernels:
    """Mixin of NumpyBackend."""


    def view(self, x, shape):
        return np.reshape(x, shape, copy=False)

    def transpose(self, x, dim0, dim1):
        return np.swapaxes(x, dim0, dim1)

    def permute(self, x, dims):
        return np.transpose(x, dims)

    def expand(self, x, shape):
        return np.broadcast_to(x, shape)

    def getitem(self, x, items):
        if any(isinstance(item, ndarray) for item in items):
            return _array(x[items])
        # A trailing Ellipsis keeps a 0-d result an array view instead of a scalar.
        return x[items + (Ellipsis,)]

    def setitem(self, x, items, value):
        if any(isinstance(item, ndarray) for item in items):
            x[items] = value
        else:
            x[items + (Ellipsis,)] = value

    def index_backward(self, grad, shape, items):
        out = np.zeros(shape, dtype=grad.dtype)
        if any(isinstance(item, ndarray) for item in items):
            np.add.at(out, items, grad)
        else:
            out[items + (Ellipsis,)] = grad
        return out
