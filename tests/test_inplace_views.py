"""In-place changes through views of tensors with history, compared with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import multigrad as mg


def test_sigmoid_output_changed_by_setitem_raises():
    a = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a.sigmoid()
    b[1] = 2
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()


def test_manual_sigmoid_changed_by_setitem_works():
    a = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = 1 / ((-a).exp() + 1)
    b[1] = 2
    assert b.grad_fn.name() == "CopySlices"
    b.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.1966, 0.0, 0.0452], atol=1e-4)


def test_slice_imul_of_plain_tensor_with_grad_operand():
    x = mg.ones(3)
    var = mg.ones(2, requires_grad=True)
    x[0:2] *= var
    x.mean().backward()
    np.testing.assert_allclose(var.grad.numpy(), [1 / 3, 1 / 3], rtol=1e-6)


def test_self_reading_slice_assignment():
    x = mg.ones(3)
    var = mg.ones(2, requires_grad=True)
    x[0:2] = x[0:2] * var
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        x.mean().backward()

    x = mg.ones(3)
    x[0:2] = x[0:2].clone() * var
    x.mean().backward()
    np.testing.assert_allclose(var.grad.numpy(), [1 / 3, 1 / 3], rtol=1e-6)


CASES = {
    "slice_mul_": lambda m, b, v: b[0:2].mul_(v),
    "mask_setitem": lambda m, b, v: b.__setitem__(b > 2.5, v.sum()),
    "view_add_": lambda m, b, v: b.view(2, 2).add_(v.reshape(2, 1)),
    "t_zero_": lambda m, b, v: b.view(2, 2).t().zero_(),
    "int_setitem": lambda m, b, v: b.__setitem__(1, v[0] * 2),
    "nested_view": lambda m, b, v: b.view(2, 2)[1].mul_(v),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_inplace_view_cases_match_torch(torch, name):
    change = CASES[name]
    results = []
    for module in (mg, torch):
        a = module.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        v = module.tensor([2.0, 3.0], requires_grad=True)
        b = a * 1.5
        change(module, b, v)
        loss = (b * b).sum()
        loss.backward()
        v_grad = None if v.grad is None else v.grad.numpy().copy()
        results.append((b.detach().numpy().copy(), a.grad.numpy().copy(), v_grad))
    (ours, theirs) = results
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)
    assert (ours[2] is None) == (theirs[2] is None)
    if ours[2] is not None:
        np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-6)


def test_view_grad_fn_is_regenerated():
    a = mg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    b = a * 1
    v = b[1:3]
    old = v.grad_fn
    v.mul_(2)
    assert v.grad_fn is not old
    assert b.grad_fn.name() == "CopySlices"
    (v * 1).sum().backward()
    assert a.grad.tolist() == [0.0, 2.0, 2.0, 0.0]


def test_inplace_on_view_of_leaf_still_raises():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        a[0:1].mul_(2)
    assert a._version == 0


def test_error_names_both_lines():
    a = mg.tensor([1.0, 3.0], requires_grad=True)
    b = a + 2
    loss = (b * b).mean()  # saved here
    b[0] = 1000.0  # changed here
    with pytest.raises(RuntimeError) as info:
        loss.backward()
    message = str(info.value)
    assert "loss = (b * b).mean()  # saved here" in message
    assert "b[0] = 1000.0  # changed here" in message
    assert __file__ in message
    assert "MulBackward0" in message
    assert "clone" in message


def test_version_error_names_the_op_called():
    # zero_ runs through fill_, but the message names the op in the user's line.
    y = mg.tensor([1.0, 2.0], requires_grad=True).exp()
    y.zero_()
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    assert "last modified in place by zero_ at" in str(info.value)


def test_leaf_error_names_the_line():
    a = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        a.add_(1)  # the leaf change
    assert "a.add_(1)  # the leaf change" in str(info.value)


@pytest.mark.parametrize("name", ["split", "chunk", "unbind"])
def test_multi_output_view_inplace_raises_like_torch(torch, name):
    messages = []
    for lib in (mg, torch):
        b = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True) * 2
        parts = {"split": lambda: b.split(2), "chunk": lambda: b.chunk(2), "unbind": lambda: b.view(2, 2).unbind()}[name]()
        with pytest.raises(RuntimeError) as info:
            parts[1].mul_(2)
        messages.append(str(info.value).split(". ")[0])
    assert messages[0] == messages[1]


def test_multi_output_view_without_grad_changes_in_place():
    b = mg.tensor([1.0, 2.0, 3.0, 4.0])
    b.split(2)[1].mul_(2)
    assert b.tolist() == [1.0, 2.0, 6.0, 8.0]
