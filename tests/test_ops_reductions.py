"""Reductions against PyTorch: values, indices and input gradients in float32 and float64."""

from __future__ import annotations

import math

import numpy as np
import pytest

import multigrad as mg
from torch_oracle import compare, random_array

DIM_CASES = [((3, 4), {}), ((3, 4), {"dim": 1}), ((3, 4), {"dim": -2, "keepdim": True}),
             ((2, 3, 4), {"dim": (0, 2)}), ((2, 3, 4), {"dim": (-1, 0), "keepdim": True})]


@pytest.mark.parametrize("shape, kwargs", DIM_CASES)
@pytest.mark.parametrize("name", ["amax", "amin", "logsumexp", "var", "std", "norm"])
def test_dim_reductions(torch, name, shape, kwargs):
    if name == "logsumexp" and "dim" not in kwargs:
        kwargs = {"dim": (0, 1)}
    compare(torch, lambda t: getattr(t, name)(**kwargs), random_array(shape))
    compare(torch, lambda t: getattr(mg, name)(t, **kwargs), random_array(shape),
            torch_fn=lambda t: getattr(torch, name)(t, **kwargs))


@pytest.mark.parametrize("name", ["all", "any"])
@pytest.mark.parametrize("shape, kwargs", DIM_CASES + [((0, 3), {}), ((0, 3), {"dim": 1})])
def test_all_any(torch, name, shape, kwargs):
    values = np.random.default_rng(0).random(shape) > 0.3
    compare(torch, lambda t: getattr(t, name)(**kwargs), values, grad=False)
    compare(torch, lambda t: getattr(t, name)(**kwargs), random_array(shape), grad=False)


def test_amax_splits_ties_evenly(torch):
    values = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    compare(torch, lambda t: t.amax(1), values)
    compare(torch, lambda t: t.amin(), values)
    compare(torch, lambda t: t.max(), values)
    compare(torch, lambda t: t.min(), values)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim, keepdim", [(0, False), (1, True), (-1, False)])
def test_max_min_with_dim(torch, name, dim, keepdim):
    values = random_array((3, 4), seed=2)
    compare(torch, lambda t: getattr(t, name)(dim, keepdim), values)
    compare(torch, lambda t: getattr(mg, name)(t, dim=dim, keepdim=keepdim), values,
            torch_fn=lambda t: getattr(torch, name)(t, dim=dim, keepdim=keepdim))


def test_max_with_dim_is_a_named_tuple():
    x = mg.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]], requires_grad=True)
    result = x.max(1)
    values, indices = result
    assert values.tolist() == [5.0, 7.0]
    assert result.values.tolist() == [5.0, 7.0]
    assert result.indices.tolist() == [1, 0]
    assert indices.dtype == mg.int64
    # The gradient goes to the selected index only, not to the tie at [1, 2].
    result.values.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]


def test_max_of_0d_with_dim(torch):
    compare(torch, lambda t: t.max(0), np.array(2.5))


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": 1, "keepdim": True}, {"dim": -1}])
def test_argmax_argmin(torch, name, kwargs):
    compare(torch, lambda t: getattr(t, name)(**kwargs), random_array((3, 4), seed=4), grad=False)


@pytest.mark.parametrize("op", ["amax", "argmax", "max"])
def test_reduction_of_empty_raises(op):
    with pytest.raises(RuntimeError, match="Expected reduction dim to be specified for input.numel\\(\\) == 0"):
        getattr(mg.zeros(0, 3), op)()
    with pytest.raises(IndexError, match="Expected reduction dim 0 to have non-zero size"):
        getattr(mg.zeros(0, 3), op)(0)


def test_dim_out_of_range_raises():
    x = mg.zeros(2, 3)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        x.amax(2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.cumsum(-3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.max(5)


# -- products --------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": 1, "keepdim": True}, {"dim": -1}])
def test_prod(torch, kwargs):
    compare(torch, lambda t: t.prod(**kwargs), random_array((3, 4), 0.5, 1.5))


@pytest.mark.parametrize("zeros", [[(0, 1)], [(0, 1), (2, 3)], [(1, 0), (1, 2)]])
@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": 1}])
def test_prod_with_zeros(torch, zeros, kwargs):
    values = random_array((3, 4), 0.5, 1.5)
    for position in zeros:
        values[position] = 0.0
    compare(torch, lambda t: t.prod(**kwargs), values)


def test_prod_of_integers_is_int64(torch):
    compare(torch, lambda t: t.prod(), np.array([1, 2, 3], dtype=np.int32), grad=False)
    compare(torch, lambda t: t.prod(0), np.array([True, False]), grad=False)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum_cumprod(torch, dim):
    values = random_array((3, 4), 0.5, 1.5)
    compare(torch, lambda t: t.cumsum(dim), values)
    compare(torch, lambda t: mg.cumprod(t, dim), values, torch_fn=lambda t: torch.cumprod(t, dim))
    compare(torch, lambda t: (t * 1).cumsum_(dim), values)


def test_cumsum_cumprod_0d_and_integers(torch):
    compare(torch, lambda t: t.cumsum(0), np.array(1.5))
    compare(torch, lambda t: t.cumprod(-1), np.array(1.5))
    compare(torch, lambda t: t.cumsum(0), np.array([1, 2, 3], dtype=np.int32), grad=False)
    compare(torch, lambda t: t.cumsum(0, dtype=mg.float64), np.array([1, 2, 3]), grad=False,
            torch_fn=lambda t: t.cumsum(0, dtype=torch.float64))


@pytest.mark.parametrize("zeros", [[1], [0, 3], [3]])
def test_cumprod_with_zeros(torch, zeros):
    values = random_array((2, 4), 0.5, 1.5)
    values[:, zeros] = 0.0
    compare(torch, lambda t: t.cumprod(1), values)


# -- statistics ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_spellings(torch, name):
    values = random_array((3, 4), seed=6)
    compare(torch, lambda t: getattr(t, name)(1, unbiased=False), values)
    compare(torch, lambda t: getattr(t, name)(False), values)
    compare(torch, lambda t: getattr(t, name)(0, keepdim=True, correction=0), values)
    compare(torch, lambda t: getattr(t, name)(dim=(0, 1), correction=2), values)
    compare(torch, lambda t: getattr(t, name)(None, True, True), values)


def test_var_of_integers_raises():
    with pytest.raises(RuntimeError, match="floating point"):
        mg.tensor([1, 2, 3]).var()


def test_logsumexp_is_stable(torch):
    values = np.array([[1000.0, 1000.0, -1000.0], [-1e4, -1e4, 0.0]])
    compare(torch, lambda t: t.logsumexp(1), values)
    compare(torch, lambda t: t.logsumexp(0, keepdim=True), values)


def test_logsumexp_with_infinities(torch):
    values = np.array([[-math.inf, -math.inf], [math.inf, 1.0], [-math.inf, 2.0]])
    compare(torch, lambda t: t.logsumexp(1), values, grad=False)


def test_logsumexp_of_integers_gives_float(torch):
    compare(torch, lambda t: t.logsumexp(0), np.array([1, 2, 3]), grad=False)


@pytest.mark.parametrize("p", [1, 2, 3, 0.5, math.inf, -math.inf, "fro"])
@pytest.mark.parametrize("kwargs", [{}, {"dim": 1}, {"dim": (0, 1), "keepdim": True}])
def test_norm(torch, p, kwargs):
    values = random_array((3, 4), seed=7)
    compare(torch, lambda t: t.norm(p, **kwargs), values)


def test_norm_gradient_is_zero_at_zero(torch):
    compare(torch, lambda t: t.norm(), np.zeros((2, 3)))
    compare(torch, lambda t: t.norm(2, 1), np.array([[0.0, 0.0], [3.0, 4.0]]))


def test_norm_of_integers_raises():
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input"):
        mg.tensor([1, 2]).norm()


def test_sum_and_mean_dims(torch):
    for shape, kwargs in DIM_CASES:
        compare(torch, lambda t: t.sum(**kwargs), random_array(shape))
        compare(torch, lambda t: t.mean(**kwargs), random_array(shape))
