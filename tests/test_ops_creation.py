"""Factories, random fills and casts: shapes, dtypes, values against PyTorch, and leaf rules."""

from __future__ import annotations

import numpy as np
import pytest

import multigrad as mg
from torch_oracle import compare, random_array


def _same(mine, theirs):
    assert tuple(mine.shape) == tuple(theirs.shape)
    assert str(mine.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6)


def test_deterministic_factories(torch):
    _same(mg.empty(2, 3), torch.empty(2, 3).zero_())  # multigrad fills with zeros; torch leaves memory as it was
    _same(mg.linspace(-1, 1, 5), torch.linspace(-1, 1, 5))
    _same(mg.linspace(0, 1, 1), torch.linspace(0, 1, 1))
    _same(mg.eye(3), torch.eye(3))
    _same(mg.eye(2, 4, dtype=mg.float64), torch.eye(2, 4, dtype=torch.float64))
    _same(mg.full_like(mg.zeros(2, 2), 7), torch.full_like(torch.zeros(2, 2), 7))
    _same(mg.full_like(mg.zeros(2, dtype=mg.int64), 3), torch.full_like(torch.zeros(2, dtype=torch.int64), 3))


def test_random_factories_shapes_and_ranges():
    mg.manual_seed(3)
    ints = mg.randint(2, 5, (100,))
    assert ints.dtype == mg.int64
    assert ints.shape == (100,)
    assert ints.min().item() >= 2
    assert ints.max().item() < 5
    perm = mg.randperm(6)
    assert sorted(perm.tolist()) == list(range(6))
    assert perm.dtype == mg.int64
    like = mg.zeros(3, 4, dtype=mg.float64)
    assert mg.rand_like(like).dtype == mg.float64
    assert mg.rand_like(like).shape == (3, 4)
    assert mg.randn_like(like).shape == (3, 4)
    values = mg.rand_like(mg.zeros(1000))
    assert 0 <= values.min().item()
    assert values.max().item() < 1


def test_from_numpy_shares_memory():
    array = np.arange(4.0)
    t = mg.from_numpy(array)
    array[0] = 10.0
    assert t[0].item() == 10.0
    assert t.dtype == mg.float64


def test_normal_and_uniform_fill_in_place():
    mg.manual_seed(0)
    x = mg.zeros(2000)
    out = x.normal_(1.0, 0.5)
    assert out is x
    assert x._version == 1
    assert abs(x.mean().item() - 1.0) < 0.05
    assert abs(x.std().item() - 0.5) < 0.05
    y = mg.zeros(2000, dtype=mg.float64).uniform_(-2, 3)
    assert y.dtype == mg.float64
    assert -2 <= y.min().item()
    assert y.max().item() < 3


def test_random_fills_follow_the_seed():
    mg.manual_seed(7)
    a = mg.zeros(5).normal_()
    b = mg.zeros(5).uniform_()
    mg.manual_seed(7)
    assert mg.zeros(5).normal_().tolist() == a.tolist()
    assert mg.zeros(5).uniform_().tolist() == b.tolist()


def test_random_fill_of_leaf_requiring_grad():
    w = mg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        w.uniform_()
    assert w.tolist() == [0.0, 0.0, 0.0]
    assert w._version == 0
    with mg.no_grad():
        w.normal_()
    assert w.requires_grad
    assert w.is_leaf


def test_random_fill_cuts_gradient_of_non_leaf():
    w = mg.ones(3, requires_grad=True)
    h = w * 2
    h.uniform_()
    h.sum().backward()
    assert w.grad.tolist() == [0.0, 0.0, 0.0]


def test_random_fill_errors():
    with pytest.raises(RuntimeError, match="floating point"):
        mg.zeros(3, dtype=mg.int64).normal_()
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0"):
        mg.zeros(3).normal_(0, -1)
    with pytest.raises(RuntimeError, match="uniform_ expects to return a \\[from, to\\) range"):
        mg.zeros(3).uniform_(2, 1)


def test_casts(torch):
    values = random_array((3, 4))
    compare(torch, lambda t: t.double() * 2, values.astype(np.float32), dtypes=("float32",))
    compare(torch, lambda t: t.float() * 2, values, dtypes=("float64",))
    compare(torch, lambda t, o: t.type_as(o) * 3, values, np.zeros(2, dtype=np.float32), dtypes=("float64",))
    compare(torch, lambda t: t.long(), values, grad=False)
    compare(torch, lambda t: t.bool(), values, grad=False)
    compare(torch, lambda t: t.to(dtype=t.dtype), values)


def test_cast_to_integer_stops_gradient():
    x = mg.ones(2, requires_grad=True)
    assert not x.long().requires_grad
    assert x.float() is x
    assert x.double().grad_fn is not None
