"""Functions that derivative formulas in ops.yaml call besides the registry ops.

Each is built from registry ops, so a backward computed with
``create_graph=True`` records them like any other op.
"""

from __future__ import annotations

from ._generated._ops import (
    _matmul,
    _where,
    expand,
    matmul,
    mul,
    neg,
    permute,
    reshape,
    sum,
    transpose,
    zeros_like,
)
from ._runtime import dims_arg
from ._tensor import _wrap

__all__ = [
    "sum_array", "sum_to_array", "sum_backward_array", "mean_backward_array", "matmul_backward_array",
    "_nll_loss_backward_array",
    "sum_to", "unbroadcast", "sum_backward", "mean_backward", "matmul_backward",
    "invert_permutation", "pow_backward_self", "pow_backward_exponent", "take_index", "zeros_like", "neg",
    "gelu_backward", "silu_backward", "clamp_backward", "clamp_tensor_backward",
    "amax_backward", "prod_backward", "cumsum_backward", "cumprod_backward", "norm_backward",
    "gather_backward", "scatter_src_backward", "roll_backward", "unsqueeze_dims",
]


def sum_to(grad, shape):
    """Sum ``grad`` over the dimensions that broadcasting expanded, giving ``shape``."""
    shape = tuple(shape)
    grad_shape = grad._data.shape
    if grad_shape == shape:
        return grad
    lead = len(grad_shape) - len(shape)
    inner = tuple(lead + i for i, size in enumerate(shape) if size == 1 and grad_shape[lead + i] != 1)
    if not inner:
        # Only added leading dimensions: one sum gives the shape.
        return sum(grad, tuple(range(lead)))
    grad = sum(grad, tuple(range(lead)) + inner, keepdim=True)
    return reshape(grad, shape) if grad._data.shape != shape else grad


unbroadcast = sum_to


def sum_backward(grad, shape, dim, keepdim):
    """Spread the gradient of a sum over ``dim`` back to the input's ``shape``."""
    shape = tuple(shape)
    if not grad._data.shape:
        return expand(grad, shape)
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
    if len(a_shape) == 2 and len(b_shape) == 2:
        # The common case, without the reshapes and sums of the batched one.
        if which == 0:
            return _matmul(grad, transpose(other, 0, 1))
        return _matmul(transpose(self, 0, 1), grad)
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
    return transpose(t, n - 2, n - 1)


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
    return _where(exponent == 0, 0.0, value)


def pow_backward_exponent(grad, self, exponent, result):
    """d/dexponent of self ** exponent, zero where self is zero and the exponent is non-negative."""
    from ._generated._ops import log, logical_and

    if self.__class__ in (int, float):
        if self == 0:
            return _where(exponent >= 0, 0.0, grad * result * float("-inf"))
        import math

        return mul(grad, mul(result, math.log(self)))
    value = mul(grad, mul(result, log(self)))
    return _where(logical_and(self == 0, exponent >= 0), 0.0, value)


def take_index(grad, indices):
    """Return ``grad[indices]`` for a normalized index, the backward of scattering into zeros."""
    from ._generated._ops import _index_gather, _index_view

    return _index_gather(grad, indices) if indices.advanced else _index_view(grad, indices)


# -- elementwise ------------------------------------------------------------------

_INV_SQRT_2PI = 0.3989422804014327
_SQRT_2_OVER_PI = 0.7978845608028654


def gelu_backward(grad, self, approximate):
    """d/dx of gelu: Phi(x) + x * phi(x), or the derivative of the tanh form."""
    from ._generated._ops import erf, exp, tanh

    if approximate == "tanh":
        cube = self * self * self
        inner = tanh(_SQRT_2_OVER_PI * (self + 0.044715 * cube))
        d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * self * self)
        return grad * (0.5 * (1 + inner) + 0.5 * self * (1 - inner * inner) * d_inner)
    cdf = 0.5 * (1 + erf(self * 0.7071067811865476))
    pdf = _INV_SQRT_2PI * exp(-0.5 * self * self)
    return grad * (cdf + self * pdf)


def silu_backward(grad, self):
    """d/dx of x * sigmoid(x): s * (1 + x * (1 - s))."""
    from ._generated._ops import sigmoid

    s = sigmoid(self)
    return grad * s * (1 + self * (1 - s))


def clamp_backward(grad, self, min, max):
    """Pass the gradient where min <= self <= max (a None bound is no bound)."""
    from ._generated._ops import logical_and

    if min is None:
        inside = self <= max
    elif max is None:
        inside = self >= min
    else:
        inside = logical_and(self >= min, self <= max)
    return _where(inside, grad, 0.0)


def clamp_tensor_backward(grad, self, min, max, which):
    """Gradient of clamp with tensor bounds for input ``which`` (0 self, 1 min, 2 max).

    Each element's gradient goes to the input that produced it: self inside the
    bounds, min below it and max above it. Where min > max every output is max.
    """
    from ._generated._ops import logical_and, logical_or

    if which == 0:
        if min is None:
            return _where(self <= max, grad, 0.0)
        if max is None:
            return _where(self >= min, grad, 0.0)
        return _where(logical_and(self >= min, self <= max), grad, 0.0)
    if which == 1:
        below = self < min
        return _where(below if max is None else logical_and(below, min < max), grad, 0.0)
    above = self > max
    return _where(above if min is None else logical_or(above, max < min), grad, 0.0)


# -- reductions -------------------------------------------------------------------

def unsqueeze_dims(t, shape, dim, keepdim):
    """Reshape a reduced ``t`` so that it broadcasts against ``shape`` (1 in each reduced dimension)."""
    shape = tuple(shape)
    if keepdim or len(t._data.shape) == len(shape):
        return t
    if dim is None or dim == ():
        dims = set(range(len(shape)))
    elif isinstance(dim, int):
        dims = {dim}
    else:
        dims = set(dim)
    return reshape(t, tuple(1 if i in dims else s for i, s in enumerate(shape)))


def amax_backward(grad, self, result, dim, keepdim):
    """Spread the gradient of amax/amin evenly over the elements equal to the result."""
    shape = self._data.shape
    hits = self == unsqueeze_dims(result.detach(), shape, dim, keepdim)
    count = sum(hits, dim if dim else None, keepdim=True)
    return unsqueeze_dims(grad, shape, dim, keepdim) * hits / count


def prod_backward(grad, self, result, dim, keepdim):
    """Gradient of prod over ``dim`` (an int, or None for all): the product of the other elements.

    Dividing result by self is exact only without zeros; with zeros, the product
    of the other elements is built from exclusive cumulative products.
    """

    from ._generated._ops import any as any_true, cumprod, flip

    shape = self._data.shape
    grad = unsqueeze_dims(grad, shape, dim, keepdim)
    if not any_true(self == 0).item():
        return grad * unsqueeze_dims(result, shape, dim, keepdim) / self
    if dim is None:
        flat = reshape(self, (-1,))
        return grad * reshape(_product_of_others(flat, 0, cumprod, flip), shape)
    return grad * _product_of_others(self, dim, cumprod, flip)


def _product_of_others(t, dim, cumprod, flip):
    """For each element along ``dim``, the product of all the other elements there."""
    from ._generated._ops import narrow
    from ._shape_ops import cat_pad_one

    size = t._data.shape[dim]
    if size <= 1:
        return zeros_like(t) + 1
    before = cat_pad_one(cumprod(narrow(t, dim, 0, size - 1), dim), dim, front=True)
    reversed_t = flip(t, (dim,))
    after = cat_pad_one(cumprod(narrow(reversed_t, dim, 0, size - 1), dim), dim, front=True)
    return before * flip(after, (dim,))


def cumsum_backward(grad, dim):
    """Gradient of cumsum: a cumulative sum of grad taken from the end."""
    from ._generated._ops import cumsum, flip

    if grad._data.ndim == 0:
        return grad
    return flip(cumsum(flip(grad, (dim,)), dim), (dim,))


def cumprod_backward(grad, self, result, dim):
    """Gradient of cumprod along ``dim``.

    Without zeros: reverse cumsum of grad * result, divided by self. With
    zeros, d result_j / d x_i for i <= j is the cumulative product up to j with
    x_i replaced by one, computed for every i at once (quadratic in the length).
    """
    from ._creation import eye, ones
    from ._generated._ops import any as any_true, cumprod, movedim, triu, unsqueeze

    if self._data.ndim == 0:
        return grad
    if not any_true(self == 0).item():
        return cumsum_backward(grad * result, dim) / self
    size = self._data.shape[dim]
    moved = movedim(self, dim, -1)                                          # (..., n)
    diagonal = eye(size, dtype=self.dtype, device=self.device) != 0         # (i, k)
    replaced = _where(diagonal, 1.0, unsqueeze(moved, -2))                   # (..., i, k)
    partial = cumprod(replaced, -1)                                         # (..., i, j)
    later = triu(ones(size, size, dtype=self.dtype, device=self.device))    # 1 where j >= i
    g = unsqueeze(movedim(grad, dim, -1), -2)                               # (..., 1, j)
    total = sum(partial * later * g, -1)                                    # (..., i)
    return movedim(total, -1, dim)


def norm_backward(grad, self, p, result, dim, keepdim):
    """Gradient of the p-norm; zero where the norm is zero, as PyTorch defines it."""
    from ._generated._ops import abs, sign

    shape = self._data.shape
    grad = unsqueeze_dims(grad, shape, dim, keepdim)
    norm = unsqueeze_dims(result, shape, dim, keepdim)
    if p == 0:
        return zeros_like(self)
    if p == 1:
        return grad * sign(self)
    if p == 2:
        return _where(norm == 0, 0.0, grad * self / norm)
    if p in (float("inf"), float("-inf")):
        hits = abs(self) == norm.detach()
        count = sum(hits, dim if dim else None, keepdim=True)
        return grad * sign(self) * hits / count
    scaled = self * abs(self) ** (p - 2) / norm ** (p - 1)
    return _where(norm == 0, 0.0, grad * scaled)


# -- indexing and movement ---------------------------------------------------------

def gather_backward(grad, shape, dim, index):
    """Gradient of gather: scatter-add grad into zeros of the input's shape."""
    from ._creation import zeros
    from ._generated._ops import scatter_add

    base = zeros(shape, dtype=grad.dtype, device=grad.device)
    return scatter_add(base, dim, index, grad)


def scatter_src_backward(grad, dim, index, src_shape):
    """Gradient of scatter's src: grad at the written positions, zero in the part of src that index does not reach."""
    from ._generated._ops import _gather, _index_backward
    from ._indexing import Index

    taken = _gather(grad, dim, index)
    if taken._data.shape == tuple(src_shape):
        return taken
    return _index_backward(taken, src_shape, Index(tuple(slice(0, s) for s in taken._data.shape), False))


def roll_backward(grad, shifts, dims):
    """Gradient of roll: roll back by the same shifts."""
    from ._generated._ops import _roll

    return _roll(grad, tuple(-s for s in shifts), dims)


# -- nn functional ------------------------------------------------------------------

__all__ += ["log_clamped", "negate_pad", "embedding_backward_adjoint"]


def log_clamped(x):
    """Return log(x) clamped below at -100, as binary cross entropy computes it."""
    from ._generated._ops import log

    value = log(x)
    return _where(value < -100, -100.0, value)


def negate_pad(pad):
    """Return the pad list that undoes ``constant_pad_nd(x, pad)``: pads become crops and crops pads."""
    return tuple(-p for p in pad)


def embedding_backward_adjoint(grad, indices, padding_idx, scale_grad_by_freq):
    """Return the gradient of ``embedding_dense_backward`` with respect to its grad_output.

    Each position reads back the row it was added to, zero at ``padding_idx``
    and divided by the row's count when ``scale_grad_by_freq``.

    NOTE: PyTorch 2.13 leaves out that division in its double backward. With
    ``scale_grad_by_freq``, the second derivative at a repeated index therefore
    differs from PyTorch's by the row's count. This one is the exact adjoint.
    """
    from ._generated._ops import embedding, reshape as reshape_op

    rows = embedding(grad, indices)
    if padding_idx >= 0:
        keep = reshape_op(indices != padding_idx, tuple(indices._data.shape) + (1,))
        rows = _where(keep, rows, 0.0)
    if scale_grad_by_freq:
        import numpy as np

        backend = indices._backend
        flat = backend.to_numpy(indices._data).ravel()
        counts = np.bincount(flat, minlength=grad._data.shape[0])[flat]
        counts = counts.reshape(indices._data.shape + (1,)).astype(grad._data.dtype)
        from ._tensor import _wrap

        rows = rows / _wrap(backend.from_numpy(counts), backend)
    return rows


# -- array-level twins ---------------------------------------------------------------
#
# When backward records no graph, generated nodes call these on backend arrays (``b`` is the
# backend) in place of the Tensor helpers of the same name without ``_array``. They do the same
# arithmetic without an op wrapper, a Tensor or a Node per step.
# codegen/multigrad_codegen/lowering.py lists them in ARRAY_TWINS.


def _view_array(b, x, shape):
    """Return array ``x`` with ``shape``: a view when its layout allows one, else a copy."""
    if b.can_view(x, shape):
        return b.view(x, shape)
    return b.view(b.clone(x), shape)


def _through_tensors(helper, b, *args):
    """Run a Tensor helper on arrays (wrapped as tensors without history) and return its result's array."""
    return helper(*(_wrap(a, b) if hasattr(a, "dtype") and hasattr(a, "shape") else a for a in args))._data


def sum_array(b, x, dim=None, keepdim=False):
    """Array twin of the ``sum`` op for a floating-point array."""
    return b.sum(x, dims_arg(dim, len(x.shape), "sum"), keepdim)


def sum_to_array(b, grad, shape):
    """Array twin of :func:`sum_to`."""
    shape = tuple(shape)
    grad_shape = grad.shape
    if grad_shape == shape:
        return grad
    lead = len(grad_shape) - len(shape)
    inner = tuple(lead + i for i, size in enumerate(shape) if size == 1 and grad_shape[lead + i] != 1)
    if not inner:
        return b.sum(grad, tuple(range(lead)), False)
    summed = b.sum(grad, tuple(range(lead)) + inner, True)
    return summed if summed.shape == shape else _view_array(b, summed, shape)


def sum_backward_array(b, grad, shape, dim, keepdim):
    """Array twin of :func:`sum_backward`."""
    shape = tuple(shape)
    if grad.shape and not keepdim and len(grad.shape) != len(shape):
        reduced = set(dim) if dim else set(range(len(shape)))
        grad = _view_array(b, grad, tuple(1 if i in reduced else s for i, s in enumerate(shape)))
    return b.expand(grad, shape)


def mean_backward_array(b, grad, shape, dim, keepdim):
    """Array twin of :func:`mean_backward`."""
    count = 1
    for d in dim if dim else range(len(shape)):
        count *= shape[d]
    return b.true_divide(sum_backward_array(b, grad, shape, dim, keepdim), max(count, 1))


def matmul_backward_array(b, grad, self, other, which):
    """Array twin of :func:`matmul_backward`; batched and 1-D operands go through the Tensor helper."""
    if len(self.shape) == 2 and len(other.shape) == 2:
        if which == 0:
            return b.matmul(grad, b.transpose(other, 0, 1))
        return b.matmul(b.transpose(self, 0, 1), grad)
    return _through_tensors(matmul_backward, b, grad, self, other, which)


def _nll_loss_backward_array(b, grad, self, target, weight, reduction, ignore_index):
    """Array twin of the ``_nll_loss_backward`` op, whose arguments were checked when the loss ran."""
    return b.nll_loss_backward(grad, self, target, weight, reduction, ignore_index)
