"""Tensor and Node printing, as PyTorch prints them."""

from __future__ import annotations

import numpy as np
import pytest

import multigrad as mg

CASES = [
    (lambda: mg.tensor(2.0), "tensor(2.)"),
    (lambda: mg.tensor(7.389056), "tensor(7.3891)"),
    (lambda: mg.tensor([1, 2, 3]), "tensor([1, 2, 3])"),
    (lambda: mg.tensor([True, False]), "tensor([ True, False])"),
    (lambda: mg.tensor([1.5, -2.25]), "tensor([ 1.5000, -2.2500])"),
    (lambda: mg.tensor([1.0, 2.0], dtype=mg.float64), "tensor([1., 2.], dtype=multigrad.float64)"),
    (lambda: mg.tensor([1, 2], dtype=mg.int32), "tensor([1, 2], dtype=multigrad.int32)"),
    (lambda: mg.ones(2, 2) * 2, "tensor([[2., 2.],\n        [2., 2.]])"),
    (lambda: mg.zeros(2, 1, 2), "tensor([[[0., 0.]],\n\n        [[0., 0.]]])"),
    (lambda: mg.tensor([]), "tensor([])"),
    (lambda: mg.zeros(0, 3), "tensor([], size=(0, 3))"),
    (lambda: mg.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda: mg.tensor([float("nan"), float("inf"), 1.0]), "tensor([nan, inf, 1.])"),
    (lambda: mg.tensor(2.0, requires_grad=True), "tensor(2., requires_grad=True)"),
    (lambda: mg.tensor([1.0], requires_grad=True) * 2, "tensor([2.], grad_fn=<MulBackward0>)"),
]


@pytest.mark.parametrize("make, expected", CASES, ids=[c[1][:30] for c in CASES])
def test_tensor_repr(make, expected):
    assert repr(make()) == expected


def test_long_tensor_is_summarized():
    text = repr(mg.arange(2000))
    assert text == "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"


def test_repr_matches_torch_for_random_values(torch):
    values = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    ours = repr(mg.tensor(values))
    theirs = repr(torch.tensor(values))
    assert ours == theirs


def test_size_and_dtype_repr():
    assert repr(mg.ones(2, 3).shape) == "multigrad.Size([2, 3])"
    assert repr(mg.float32) == "multigrad.float32"
    assert str(mg.ones(1).device) == "numpy"
