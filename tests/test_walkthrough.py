"""The classic autograd walkthrough, step by step, with PyTorch's exact output."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import multigrad as mg

DTYPES = [mg.float32, mg.float64]


def build_graph(dtype=mg.float32):
    inputs = mg.ones([2, 2], dtype=dtype)
    w1 = mg.tensor(2.0, dtype=dtype, requires_grad=True)
    w2 = mg.tensor(3.0, dtype=dtype, requires_grad=True)
    w3 = mg.tensor(4.0, dtype=dtype, requires_grad=True)
    l1 = inputs * w1
    l2 = l1 + w2
    l3 = l1 * w3
    l4 = l2 * l3
    loss = l4.mean()
    return (w1, w2, w3), (l1, l2, l3, l4, loss)


def test_exp_repr():
    a = mg.tensor(2.0, requires_grad=True)
    b = a.exp()
    assert repr(b) == "tensor(7.3891, grad_fn=<ExpBackward0>)"
    assert repr(a) == "tensor(2., requires_grad=True)"


def test_graph_before_backward():
    (w1, w2, w3), (l1, l2, l3, l4, loss) = build_graph()
    assert loss.item() == 40.0
    assert repr(w1.data) == "tensor(2.)"
    assert w1.grad is None
    assert w1.grad_fn is None
    assert l1.grad_fn.name() == "MulBackward0"
    assert loss.grad_fn.name() == "MeanBackward0"
    assert re.fullmatch(r"<MulBackward0 object at 0x[0-9a-f]+>", repr(l1.grad_fn))
    assert repr(l1) == "tensor([[2., 2.],\n        [2., 2.]], grad_fn=<MulBackward0>)"


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_leaf_grads_after_backward(dtype):
    (w1, w2, w3), (l1, l2, l3, l4, loss) = build_graph(dtype)
    loss.backward()
    assert w1.grad.item() == 28.0
    assert w2.grad.item() == 8.0
    assert w3.grad.item() == 10.0
    assert w1.grad.dtype is dtype
    for t in (l1, l2, l3, l4, loss):
        with pytest.warns(UserWarning, match="retain_grad"):
            assert t.grad is None


def test_retain_grad_values():
    (w1, w2, w3), (l1, l2, l3, l4, loss) = build_graph()
    l1.retain_grad()
    l4.retain_grad()
    loss.retain_grad()
    loss.backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert loss.grad.item() == 1.0
        np.testing.assert_array_equal(l4.grad.numpy(), np.full((2, 2), 0.25, np.float32))
        np.testing.assert_array_equal(l1.grad.numpy(), np.full((2, 2), 7.0, np.float32))
    assert loss.retains_grad
    assert not w1.retains_grad


def test_hooks_fire_in_order_and_leave_grad_none():
    (w1, w2, w3), (l1, l2, l3, l4, loss) = build_graph()
    seen = []
    loss.register_hook(lambda g: seen.append(("loss", g.tolist())))
    l4.register_hook(lambda g: seen.append(("l4", g.tolist())))
    l1.register_hook(lambda g: seen.append(("l1", g.tolist())))
    loss.backward()
    assert seen == [
        ("loss", 1.0),
        ("l4", [[0.25, 0.25], [0.25, 0.25]]),
        ("l1", [[7.0, 7.0], [7.0, 7.0]]),
    ]
    with pytest.warns(UserWarning):
        assert loss.grad is None


def test_inplace_change_of_saved_tensor_raises():
    b = mg.tensor([1.0, 3.0], requires_grad=True) + 2
    loss = (b * b).mean()
    assert b._version == 0
    b[0] = 1000.0
    assert b._version == 1
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*is at version 1; expected version 0 instead"):
        loss.backward()


def test_inplace_change_of_unsaved_tensor_is_fine():
    a = mg.tensor([1.0, 3.0], requires_grad=True)
    b = a + 2
    loss = (b + 1).sum()
    b[0] = 1000.0
    loss.backward()
    assert a.grad.tolist() == [1.0, 1.0]


LEAF_ERROR = "a leaf Variable that requires grad is being used in an in-place operation."


def test_leaf_inplace_errors():
    a = mg.tensor([10.0, 5.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=re.escape(LEAF_ERROR)):
        a.add_(10.0)
    with pytest.raises(RuntimeError, match=re.escape(LEAF_ERROR)):
        a += 10.0
    with pytest.raises(RuntimeError, match=re.escape(LEAF_ERROR)):
        a[:] = 0
    assert a.tolist() == [10.0, 5.0, 2.0, 3.0]
    assert a._version == 0


def test_allowed_leaf_changes():
    a = mg.tensor([10.0, 5.0, 2.0, 3.0], requires_grad=True)
    a.data.fill_(10.0)
    a.detach().fill_(10.0)
    with mg.no_grad():
        a[:] = 10.0
    assert a.is_leaf
    assert a.tolist() == [10.0] * 4
    (a * a).mean().backward()
    assert a.grad.tolist() == [5.0, 5.0, 5.0, 5.0]


def test_setitem_keeps_identity_and_op_makes_new_tensor():
    x = mg.tensor([3.0, 1.0])
    before = id(x)
    x[0] = 10
    assert id(x) == before
    assert x.tolist() == [10.0, 1.0]
    x = x.exp()
    assert id(x) != before


def test_detach_shares_version_but_data_does_not():
    a = mg.tensor([10.0, 5.0, 2.0, 3.0], requires_grad=True)
    out = a.sigmoid()
    out.detach().zero_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()

    out = a.sigmoid()
    out.data.zero_()
    out.sum().backward()
    # Silently wrong, exactly as in PyTorch: .data hides the change from autograd.
    assert a.grad.tolist() == [0.0, 0.0, 0.0, 0.0]


def test_second_backward_raises_and_rebuild_works():
    a = mg.tensor([10.0, 5.0, 2.0, 3.0], requires_grad=True)
    b = a * a
    loss = b.mean()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"Trying to backward through the graph a second time.*retain_graph=True"):
        loss.backward()
    a.grad = None
    loss = (a * a).mean()
    loss.backward()
    assert a.grad.tolist() == [5.0, 2.5, 1.0, 1.5]


def test_graph_without_saved_tensors_backwards_twice():
    a = mg.tensor([10.0, 5.0, 2.0, 3.0], requires_grad=True)
    loss = (a + 2).sum()
    loss.backward()
    loss.backward()
    assert a.grad.tolist() == [2.0, 2.0, 2.0, 2.0]


def test_backward_errors():
    a = mg.tensor([10.0, 5.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (a * 2).backward()
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad and does not have a grad_fn"):
        mg.tensor([1.0, 2.0]).sum().backward()
    with pytest.raises(RuntimeError, match="Only Tensors of floating point dtype can require gradients"):
        mg.tensor([1, 2], requires_grad=True)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_walkthrough_matches_torch(torch, dtype):
    torch_dtype = getattr(torch, dtype.name)
    (w1, w2, w3), (*_, loss) = build_graph(dtype)
    loss.backward()

    inputs = torch.ones(2, 2, dtype=torch_dtype)
    tw = [torch.tensor(v, dtype=torch_dtype, requires_grad=True) for v in (2.0, 3.0, 4.0)]
    l1 = inputs * tw[0]
    tloss = ((l1 + tw[1]) * (l1 * tw[2])).mean()
    tloss.backward()
    assert loss.item() == tloss.item()
    for ours, theirs in zip((w1, w2, w3), tw):
        assert ours.grad.item() == theirs.grad.item()
