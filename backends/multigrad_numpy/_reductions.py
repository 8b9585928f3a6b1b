"""Reduction kernels over any set of dimensions."""

from __future__ import annotations

import math

import numpy as np

from ._util import _array

_add_reduce = np.add.reduce


class ReductionKernels:
    """Mixin of NumpyBackend."""


    def sum(self, x, dims, keepdim):
        # The ufunc's own reduce skips np.sum's Python wrappers, about a third of a small sum's time.
        return _array(_add_reduce(x, axis=_axis(x, dims), keepdims=keepdim, dtype=x.dtype))

    def mean(self, x, dims, keepdim):
        with np.errstate(invalid="ignore", divide="ignore"):
            return _array(np.mean(x, axis=_axis(x, dims), keepdims=keepdim, dtype=x.dtype))

    def prod(self, x, dim, keepdim):
        axis = None if dim is None or x.ndim == 0 else dim
        return _array(np.prod(x, axis=axis, keepdims=keepdim, dtype=x.dtype))

    def amax(self, x, dims, keepdim):
        return _array(np.amax(x, axis=_axis(x, dims), keepdims=keepdim))

    def amin(self, x, dims, keepdim):
        return _array(np.amin(x, axis=_axis(x, dims), keepdims=keepdim))

    def argmax(self, x, dim, keepdim):
        return _array(np.argmax(x, axis=None if x.ndim == 0 else dim, keepdims=keepdim).astype(np.int64, copy=False))

    def argmin(self, x, dim, keepdim):
        return _array(np.argmin(x, axis=None if x.ndim == 0 else dim, keepdims=keepdim).astype(np.int64, copy=False))

    def all(self, x, dims, keepdim):
        return _array(np.all(x, axis=_axis(x, dims), keepdims=keepdim))

    def any(self, x, dims, keepdim):
        return _array(np.any(x, axis=_axis(x, dims), keepdims=keepdim))

    def norm(self, x, p, dims, keepdim):
        axis = _axis(x, dims)
        magnitude = np.abs(x)
        if p == 2:
            result = np.sqrt(np.sum(magnitude * magnitude, axis=axis, keepdims=keepdim))
        elif p == 1:
            result = np.sum(magnitude, axis=axis, keepdims=keepdim)
        elif p == math.inf:
            result = np.amax(magnitude, axis=axis, keepdims=keepdim, initial=0)
        elif p == -math.inf:
            result = np.amin(magnitude, axis=axis, keepdims=keepdim, initial=math.inf)
        elif p == 0:
            result = np.sum(magnitude != 0, axis=axis, keepdims=keepdim)
        else:
            result = np.sum(magnitude ** p, axis=axis, keepdims=keepdim) ** (1.0 / p)
        return _array(np.asarray(result).astype(x.dtype, copy=False))

    def cumsum(self, x, dim):
        if x.ndim == 0:
            return x.copy()
        return _array(np.cumsum(x, axis=dim, dtype=x.dtype))

    def cumprod(self, x, dim):
        if x.ndim == 0:
            return x.copy()
        return _array(np.cumprod(x, axis=dim, dtype=x.dtype))

    def argsort(self, x, dim, descending):
        """Return int64 indices that sort ``x`` along ``dim``, stably; NaN counts as the largest value."""
        if x.ndim == 0:
            return np.zeros((), dtype=np.int64)
        if not descending:
            return np.argsort(x, axis=dim, kind="stable").astype(np.int64, copy=False)
        # Sorting the reversed array ascending and reversing the result keeps equal keys in their original
        # order. The index arithmetic maps positions in the reversed array back.
        n = x.shape[dim]
        reversed_order = np.argsort(np.flip(x, axis=dim), axis=dim, kind="stable")
        return (n - 1 - np.flip(reversed_order, axis=dim)).astype(np.int64, copy=False)


def _axis(x, dims):
    """Return NumPy's axis for reduction dims: None for all, which also covers dim 0 of a 0-d tensor."""
    return dims if dims and x.ndim else None
