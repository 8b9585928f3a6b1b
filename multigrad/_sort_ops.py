"""Sorting ops: argsort, sort and topk.

Indices come from the nondifferentiable ``_argsort`` primitive; values are
gathered with them, so their gradient flows back to the selected positions
through ``gather``.
"""

from __future__ import annotations

from collections import namedtuple

from ._runtime import dim_arg
from ._tensor import Tensor

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
