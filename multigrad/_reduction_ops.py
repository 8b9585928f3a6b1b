"""Hand-written forwards of reductions: argument checks, named-tuple results and composites."""

from __future__ import annotations

import builtins
import math
from collections import namedtuple

from . import _dtype
from ._runtime import dims_arg
from ._tensor import Tensor, _wrap_dim

#: The (values, indices) results of max and min with a dim, like torch.return_types.max and .min.
max_result = namedtuple("max", ["values", "indices"])
min_result = namedtuple("min", ["values", "indices"])


def _check_tensor(t, op: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(t).__name__}")


def _check_nonempty(self: Tensor, dims: tuple, op: str) -> None:
    """Raise PyTorch's error for a reduction without identity over an empty tensor or dimension."""
    shape = self._data.shape
    if not dims:
        if self.numel() == 0:
            raise RuntimeError(
                f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        return
    for d in dims:
        if shape and shape[d] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")


def amax(self, dim=(), keepdim=False):
    from ._generated._ops import _amax

    _check_tensor(self, "amax")
    dims = dims_arg(dim, self._data.ndim, "amax")
    _check_nonempty(self, dims, "amax")
    return _amax(self, dims, keepdim)


def amin(self, dim=(), keepdim=False):
    from ._generated._ops import _amin

    _check_tensor(self, "amin")
    dims = dims_arg(dim, self._data.ndim, "amin")
    _check_nonempty(self, dims, "amin")
    return _amin(self, dims, keepdim)


def max(self, dim=None, keepdim=False):
    """The whole-tensor maximum, the (values, indices) along dim, or maximum(self, other)."""
    from ._generated._ops import maximum

    _check_tensor(self, "max")
    if isinstance(dim, Tensor):
        return maximum(self, dim)
    if dim is None:
        _check_nonempty(self, (), "max")
        return amax(self)
    values, indices = _extreme_along(self, dim, keepdim, "max")
    return max_result(values, indices)


def min(self, dim=None, keepdim=False):
    """The whole-tensor minimum, the (values, indices) along dim, or minimum(self, other)."""
    from ._generated._ops import minimum

    _check_tensor(self, "min")
    if isinstance(dim, Tensor):
        return minimum(self, dim)
    if dim is None:
        _check_nonempty(self, (), "min")
        return amin(self)
    values, indices = _extreme_along(self, dim, keepdim, "min")
    return min_result(values, indices)


def _extreme_along(self: Tensor, dim, keepdim: bool, op: str):
    """Return the values and indices of max or min along one dim; values read self through gather."""
    from ._generated._ops import _argmax, _argmin, gather, squeeze

    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")
    dim = _wrap_dim(dim, self._data.ndim)
    _check_nonempty(self, (dim,), op)
    if self._data.ndim == 0:
        return self.clone(), _zeros_index(self)
    find = _argmax if op == "max" else _argmin
    indices = find(self, dim, True)
    values = gather(self, dim, indices)
    if keepdim:
        return values, indices
    return squeeze(values, dim), squeeze(indices, dim)


def _zeros_index(self: Tensor) -> Tensor:
    from ._creation import zeros

    return zeros((), dtype=_dtype.int64, device=self.device)


def argmax(self, dim=None, keepdim=False):
    from ._generated._ops import _argmax

    _check_tensor(self, "argmax")
    _check_nonempty(self, () if dim is None else (dim,), "argmax")
    return _argmax(self, dim, keepdim)


def argmin(self, dim=None, keepdim=False):
    from ._generated._ops import _argmin

    _check_tensor(self, "argmin")
    _check_nonempty(self, () if dim is None else (dim,), "argmin")
    return _argmin(self, dim, keepdim)


def _variance_args(self, dim, unbiased, correction, op: str):
    """Resolve torch's var/std spellings into (dims, correction)."""
    _check_tensor(self, op)
    if isinstance(dim, bool):
        # var(x, True): the bool is unbiased, not a dim.
        if unbiased is not None:
            raise TypeError(f"{op}(): received an invalid combination of arguments: unbiased given twice")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise RuntimeError(f"{op}(): cannot specify both unbiased and correction; use correction only")
    if unbiased is not None:
        if not isinstance(unbiased, bool):
            raise TypeError(f"{op}(): argument 'unbiased' must be bool, not {type(unbiased).__name__}")
        correction = 1 if unbiased else 0
    if correction is None:
        correction = 1
    if self._data.dtype.kind != "f":
        raise RuntimeError(f"{op}(): input dtype should be either floating point or complex. Got {self.dtype!r} instead.")
    return dims_arg(dim, self._data.ndim, op), correction


def var(self, dim=None, unbiased=None, keepdim=False, correction=None):
    """sum((x - mean) ** 2) / max(N - correction, 0), built from registry ops."""
    from ._generated._ops import _mean, sum

    dims, correction = _variance_args(self, dim, unbiased, correction, "var")
    shape = self._data.shape
    count = 1
    for d in (dims if dims else range(len(shape))):
        count *= shape[d]
    centered = self - _mean(self, dims, True)
    return sum(centered * centered, dims, keepdim) / builtins.max(count - correction, 0)


def std(self, dim=None, unbiased=None, keepdim=False, correction=None):
    from ._generated._ops import sqrt

    return sqrt(var(self, dim, unbiased, keepdim, correction=correction))


def logsumexp(self, dim, keepdim=False):
    """log(sum(exp(x - m))) + m with m the detached maximum, so large inputs do not overflow."""
    from ._generated._ops import _amax, exp, isinf, log, squeeze, sum, where

    _check_tensor(self, "logsumexp")
    if self._data.dtype.kind != "f":
        self = self.to(_dtype.get_default_dtype())
    dims = dims_arg(dim, self._data.ndim, "logsumexp")
    if self.numel() == 0:
        return log(sum(exp(self), dims, keepdim))
    peak = _amax(self.detach(), dims, True)
    # An infinite maximum would give inf - inf = NaN; shifting by zero there keeps the infinity.
    peak = where(isinf(peak), 0.0, peak)
    total = log(sum(exp(self - peak), dims, True)) + peak
    if keepdim:
        return total
    return squeeze(total, dims if dims else tuple(range(self._data.ndim)))


def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
    from ._generated._ops import _norm

    _check_tensor(self, "norm")
    if dtype is not None:
        self = self.to(_dtype.to_dtype(dtype))
    if self._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {_LEGACY.get(self.dtype, self.dtype.name)}")
    if p is None or p == "fro":
        p = 2
    elif isinstance(p, str):
        raise NotImplementedError(f"norm(): p={p!r} is not supported; use a number, inf, -inf or 'fro'")
    elif isinstance(p, bool) or not isinstance(p, (int, float)):
        raise TypeError(f"norm(): argument 'p' must be a number or 'fro', not {type(p).__name__}")
    dims = dims_arg(dim, self._data.ndim, "norm")
    if p < 0 and self.numel() == 0 or (p == -math.inf and self.numel() == 0):
        raise RuntimeError(f"linalg.vector_norm cannot compute the {p} norm on an empty tensor because the operation does not have an identity")
    return _norm(self, p, dims, keepdim)


_LEGACY = {_dtype.int64: "Long", _dtype.int32: "Int", _dtype.bool_: "Bool", _dtype.uint8: "Byte"}
