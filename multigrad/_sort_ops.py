"""Sorting ops: argsort, sort, topk and unique.

Indices come from the nondifferentiable ``_argsort`` primitive; values are
gathered with them, so their gradient flows back to the selected positions
through ``gather``.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ._grad_mode import GRAD_STATE
from ._node import Node, _sequence, edge
from ._runtime import dim_arg
from ._tensor import Tensor, _wrap

#: (values, indices) results, like torch.return_types.sort and .topk.
sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])


def _check(self, op: str) -> None:
    if not isinstance(self, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(self).__name__}")


def argsort(self, dim=-1, descending=False, stable=False):
    """Return the indices that sort self along dim; the sort is always stable, as ``stable=True`` requests."""
    from ._generated._ops import _argsort

    _check(self, "argsort")
    return _argsort(self, dim_arg(dim, self._data.ndim, "argsort"), bool(descending))


def sort(self, dim=-1, descending=False, stable=False):
    """Return (values, indices) of self sorted along dim."""
    from ._generated._ops import gather

    indices = argsort(self, dim, descending)
    if self._data.ndim == 0:
        return sort_result(self.clone(), indices)
    return sort_result(gather(self, dim, indices), indices)


def topk(self, k, dim=-1, largest=True, sorted=True):
    """Return (values, indices) of the k largest (or smallest) elements along dim, in sorted order."""
    from ._generated._ops import gather, narrow

    _check(self, "topk")
    if not isinstance(k, int) or isinstance(k, bool):
        raise TypeError(f"topk(): argument 'k' must be int, not {type(k).__name__}")
    dim = dim_arg(dim, self._data.ndim, "topk")
    size = self._data.shape[dim] if self._data.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(f"selected index k out of range: k is {k}, dimension {dim} has size {size}")
    if self._data.ndim == 0:
        indices = argsort(self, dim, largest)
        return topk_result(self.clone(), indices)
    indices = narrow(argsort(self, dim, largest), dim, 0, k)
    # NOTE: with sorted=False PyTorch may return any order; this always returns sorted order.
    return topk_result(gather(self, dim, indices), indices)


class Unique2Backward0(Node):
    """The history of unique's values: PyTorch defines no derivative, so backward through it raises."""

    __slots__ = ()
    _message = "the derivative for '_unique2' is not implemented."

    def apply(self, grads):
        raise NotImplementedError(self._message)


class UniqueDimBackward0(Unique2Backward0):
    """The history of unique's values along a dim, whose backward raises as PyTorch's does."""

    __slots__ = ()
    _message = "the derivative for 'unique_dim' is not implemented."


def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Return the distinct values of self in ascending order, or the distinct slices along dim.

    With ``return_inverse`` also the index of each element's (or slice's) value
    in the result, and with ``return_counts`` how often each value occurs; both
    are int64. The values are computed on the host. NaNs stay distinct, as in
    PyTorch, and ``sorted=False`` sorts too, as PyTorch does on CPU.
    """
    _check(self, "unique")
    backend = self._backend
    values = backend.to_numpy(self._data)
    if dim is None:
        uniques, inverse, counts = np.unique(values, return_inverse=True, return_counts=True, equal_nan=False)
        inverse = inverse.reshape(values.shape)
        node_class = Unique2Backward0
    else:
        dim = dim_arg(dim, values.ndim, "unique")
        if values.ndim and 0 in values.shape and values.shape[dim] != 0:
            raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be applied")
        axis = dim if values.ndim else None
        uniques, inverse, counts = np.unique(values, return_inverse=True, return_counts=True, axis=axis,
                                             equal_nan=False)
        inverse = inverse.reshape(-1)
        node_class = UniqueDimBackward0
    out = _wrap(backend.from_numpy(np.ascontiguousarray(uniques)), backend)
    if GRAD_STATE.enabled and self._requires_grad:
        node = node_class()
        node._seq = next(_sequence)
        node.next_functions = (edge(self),)
        out._grad_fn = node
        out._requires_grad = True
    results = [out]
    if return_inverse:
        results.append(_wrap(backend.from_numpy(inverse.astype(np.int64)), backend))
    if return_counts:
        results.append(_wrap(backend.from_numpy(counts.astype(np.int64)), backend))
    return out if len(results) == 1 else tuple(results)
