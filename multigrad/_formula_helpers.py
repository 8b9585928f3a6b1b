"""Functions that derivative formulas in ops.yaml call besides the registry ops.

Each is built from registry ops, so a backward computed with
``create_graph=True`` records them like any other op.
"""

from __future__ import annotations

from ._generated._ops import (
    expand,
    matmul,
    mul,
    neg,
    permute,
    reshape,
    sum,
    where,
    zeros_like,
)

__all__ = [
    "sum_to", "unbroadcast", "sum_backward", "mean_backward", "matmul_backward",
    "invert_permutation", "pow_backward_self", "pow_backward_exponent", "take_index", "zeros_like", "neg",
]


def sum_to(grad, shape):
    """Sum ``grad`` over the dimensions that broadcasting expanded, giving ``shape``."""
    shape = tuple(shape)
    grad_shape = grad._data.shape
    if grad_shape == shape:
        return grad
    lead = len(grad_shape) - len(shape)
    dims = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and grad_shape[lead + i] != 1
    )
    if dims:
        grad = sum(grad, dims, keepdim=True)
    return reshape(grad, shape) if grad._data.shape != shape else grad


unbroadcast = sum_to


def sum_backward(grad, shape, dim, keepdim):
    """Spread the gradient of a sum over ``dim`` back to the input's ``shape``."""
    shape = tuple(shape)
    if not keepdim and len(grad._data.shape) != len(shape):
        reduced = set(dim) if dim else set(range(len(shape)))
        grad = reshape(grad, tuple(1 if i in reduced else s for i, s in enumerate(shape)))
    return expand(grad, shape)


def mean_backward(grad, shape, dim, keepdim):
    """Spread the gradient of a mean over ``dim`` back to ``shape``, divided by the count."""
    shape = tuple(shape)
    dims = dim if dim else tuple(range(len(shape)))
    count = 1
    for d in dims:
        count *= shape[d]
    return sum_backward(grad, shape, dim, keepdim) / max(count, 1)


def matmul_backward(grad, self, other, which):
    """Return the gradient of ``matmul(self, other)`` for input ``which`` (0 for self, 1 for other)."""
    a_shape, b_shape = self._data.shape, other._data.shape
    a = reshape(self, (1,) + a_shape) if len(a_shape) == 1 else self
    b = reshape(other, b_shape + (1,)) if len(b_shape) == 1 else other
    g = grad
    if len(a_shape) == 1:
        g = reshape(g, g._data.shape[:-1] + (1,) + g._data.shape[-1:])
    if len(b_shape) == 1:
        g = reshape(g, g._data.shape + (1,))
    if which == 0:
        result = matmul(g, _transpose_last(b))
        return sum_to(result, a._data.shape).reshape(a_shape)
    result = matmul(_transpose_last(a), g)
    return sum_to(result, b._data.shape).reshape(b_shape)


def _transpose_last(t):
    n = t._data.ndim
    return permute(t, tuple(range(n - 2)) + (n - 1, n - 2))


def invert_permutation(dims):
    """Return the permutation that undoes ``dims``."""
    inverse = [0] * len(dims)
    for i, d in enumerate(dims):
        inverse[d] = i
    return tuple(inverse)


def pow_backward_self(grad, self, exponent):
    """d/dself of self ** exponent, zero where the exponent is zero."""
    if exponent.__class__ in (int, float):
        if exponent == 0:
            return zeros_like(grad)
        return mul(grad, mul(self ** (exponent - 1), exponent))
    value = mul(grad, mul(exponent, self ** (exponent - 1)))
    return where(exponent == 0, 0.0, value)


def pow_backward_exponent(grad, self, exponent, result):
    """d/dexponent of self ** exponent, zero where self is zero and the exponent is non-negative."""
    from ._generated._ops import log, logical_and

    if self.__class__ in (int, float):
        if self == 0:
            return where(exponent >= 0, 0.0, grad * result * float("-inf"))
        import math

        return mul(grad, mul(result, math.log(self)))
    value = mul(grad, mul(result, log(self)))
    return where(logical_and(self == 0, exponent >= 0), 0.0, value)


def take_index(grad, indices):
    """Return ``grad[indices]`` for a normalized index, the backward of scattering into zeros."""
    from ._generated._ops import _index_gather, _index_view

    return _index_gather(grad, indices) if indices.advanced else _index_view(grad, indices)
