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

    def index_put(self, x, items, values):
        out = x.copy()
        out[items] = values
        return out

    def index_backward(self, grad, shape, items):
        out = np.zeros(shape, dtype=grad.dtype)
        if any(isinstance(item, ndarray) for item in items):
            np.add.at(out, items, grad)
        else:
            out[items + (Ellipsis,)] = grad
        return out

    def flip(self, x, dims):
        return np.flip(x, dims).copy()

    def roll(self, x, shifts, dims):
        return _array(np.roll(x, shifts, dims))

    def cat(self, arrays, dim):
        return np.concatenate(arrays, axis=dim)

    def gather(self, x, dim, index):
        # PyTorch lets the index be smaller than x in the other dimensions: cut x to it first.
        cut = tuple(slice(0, index.shape[d]) if d != dim else slice(None) for d in range(x.ndim))
        return _array(np.take_along_axis(x[cut], index, axis=dim))

    def scatter(self, x, dim, index, src):
        out = x.copy()
        out[_scatter_items(index, dim)] = src if not isinstance(src, ndarray) else _cut_to(src, index.shape)
        return out

    def scatter_add(self, x, dim, index, src):
        out = x.copy()
        np.add.at(out, _scatter_items(index, dim), _cut_to(src, index.shape))
        return out

    def index_add(self, x, dim, index, source, alpha):
        out = x.copy()
        values = source if alpha == 1 else (source * alpha).astype(x.dtype, copy=False)
        np.add.at(out, (slice(None),) * dim + (index,), values)
        return out

    def nonzero(self, x):
        return np.argwhere(x).astype(np.int64, copy=False)


def _scatter_items(index, dim):
    """Return the advanced index that sends element i of ``index`` to position index[i] along ``dim``."""
    grids = np.indices(index.shape, sparse=True)
    return tuple(index if d == dim else grids[d] for d in range(index.ndim))


def _cut_to(src, shape):
    """Return the leading ``shape`` block of ``src``, which PyTorch lets be larger than the index."""
    return src[tuple(slice(0, s) for s in shape)]
