"""Engine semantics: graph structure, grad modes, views, in-place history, hooks, deep graphs."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import multigrad as mg


def leaf(values, dtype=mg.float32):
    return mg.tensor(values, dtype=dtype, requires_grad=True)


# -- graph structure -------------------------------------------------------------------------

def test_next_functions_pairs():
    a = leaf([1.0, 2.0])
    b = mg.tensor([3.0, 4.0])
    y = a * b
    (fn_a, nr_a), (fn_b, nr_b) = y.grad_fn.next_functions
    assert fn_a.name() == "AccumulateGrad"
    assert nr_a == 0
    assert fn_b is None
    assert nr_b == 0
    z = (y * 2).sum()
    assert z.grad_fn.next_functions[0][0].next_functions[0][0] is y.grad_fn
    assert fn_a is (a * 3).grad_fn.next_functions[0][0], "a leaf has one AccumulateGrad node"


def test_requires_grad_propagation_and_leaves():
    a = leaf([1.0])
    b = mg.tensor([2.0])
    c = a + b
    assert c.requires_grad
    assert not c.is_leaf
    d = b * 2
    assert not d.requires_grad
    assert d.is_leaf
    assert d.grad_fn is None
    assert b.requires_grad_() is b
    assert b.requires_grad
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables"):
        c.requires_grad_(False)
    with pytest.raises(RuntimeError, match="floating point"):
        mg.tensor([1, 2]).requires_grad_()


def test_grad_accumulates_across_backward_calls():
    a = leaf([1.0, 2.0])
    (a * 3).sum().backward()
    (a * a).sum().backward()
    assert a.grad.tolist() == [5.0, 7.0]


def test_backward_with_gradient_argument():
    a = leaf([1.0, 2.0, 3.0])
    y = a * a
    y.backward(gradient=mg.tensor([1.0, 0.1, 0.01]))
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 0.4, 0.06], rtol=1e-6)


def test_backward_gradient_shape_mismatch():
    a = leaf([1.0, 2.0])
    y = a * 2
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[0\] has a shape of multigrad.Size\(\[3\]\) and output\[0\] has a shape of multigrad.Size\(\[2\]\)"):
        y.backward(mg.tensor([1.0, 1.0, 1.0]))


def test_retain_graph_allows_second_backward():
    a = leaf([1.0, 2.0])
    loss = (a * a).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    assert a.grad.tolist() == [4.0, 8.0]


def test_saved_tensors_freed_after_backward():
    a = leaf([1.0, 2.0])
    y = a * a
    node = y.grad_fn
    y.sum().backward()
    assert node.self.counter is None


def test_deep_chain_of_100k_ops_runs_without_recursion():
    a = leaf([0.5])
    y = a
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert a.grad.tolist() == [1.0]


def test_diamond_graph_sums_gradients():
    a = leaf([2.0])
    b = a * 3
    y = b * b + b
    y.backward(mg.ones(1))
    assert a.grad.tolist() == [3 * (2 * 6 + 1)]


def test_gradients_from_array_and_tensor_nodes_sum():
    # MulBackward0 runs on arrays; a custom Function's node runs on Tensors. Both feed b's node.
    class Triple(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3

        @staticmethod
        def backward(ctx, grad):
            return grad * 3

    a = leaf([2.0, -1.0])
    b = a * 2
    y = b * 5 + Triple.apply(b) + b * b
    y.sum().backward()
    # dy/db = 5 + 3 + 2b, times db/da = 2.
    assert a.grad.tolist() == [2 * (8 + 2 * 4.0), 2 * (8 + 2 * -2.0)]


def test_hooks_inside_array_path_chain():
    a = leaf([1.0, 2.0])
    b = a * 3
    c = b.exp()
    d = c * 2
    c.retain_grad()
    b.register_hook(lambda g: g * 10)
    d.sum().backward()
    np.testing.assert_allclose(c.grad.numpy(), [2.0, 2.0])
    np.testing.assert_allclose(a.grad.numpy(), 10 * 3 * 2 * np.exp([3.0, 6.0]), rtol=1e-6)


@pytest.mark.parametrize("reduce", [lambda y: y.sum(dtype=mg.float64), lambda y: y.cumsum(0, dtype=mg.float64).sum()],
                         ids=["sum", "cumsum"])
def test_dtype_argument_gradient_cast_back(reduce):
    # As in PyTorch, the gradient reaching a float32 tensor is float32 even after a float64 reduction.
    a = leaf([1.0, 2.0], dtype=mg.float32)
    y = a * 2
    y.retain_grad()
    reduce(y).backward()
    assert y.grad.dtype is mg.float32
    assert a.grad.dtype is mg.float32


def test_broadcast_gradient_summed_back():
    a = leaf(np.ones((2, 3)))
    b = leaf([1.0, 2.0, 3.0])
    c = leaf(5.0)
    (a * b + c).sum().backward()
    assert a.grad.shape == (2, 3)
    assert b.grad.tolist() == [2.0, 2.0, 2.0]
    assert c.grad.item() == 6.0


def test_mixed_dtype_gradients_keep_input_dtypes():
    a = leaf([1.0, 2.0], dtype=mg.float32)
    b = leaf([3.0, 4.0], dtype=mg.float64)
    y = a * b
    assert y.dtype is mg.float64
    y.sum().backward()
    assert a.grad.dtype is mg.float32
    assert b.grad.dtype is mg.float64
    assert a.grad.tolist() == [3.0, 4.0]


# -- grad modes --------------------------------------------------------------------------------

def test_no_grad_context_and_decorator():
    a = leaf([1.0])
    with mg.no_grad():
        assert not (a * 2).requires_grad
        with mg.enable_grad():
            assert (a * 2).requires_grad
    assert (a * 2).requires_grad

    @mg.no_grad()
    def doubled(x):
        return x * 2

    assert not doubled(a).requires_grad
    assert mg.is_grad_enabled()


def test_set_grad_enabled_as_call_and_context():
    a = leaf([1.0])
    with mg.set_grad_enabled(False):
        assert not (a * 2).requires_grad
    assert mg.is_grad_enabled()
    mg.set_grad_enabled(False)
    try:
        assert not (a * 2).requires_grad
    finally:
        mg.set_grad_enabled(True)
    assert (a * 2).requires_grad


def test_one_no_grad_object_nests_and_restores():
    context = mg.no_grad()
    with context:
        with mg.enable_grad():
            with context:
                assert not mg.is_grad_enabled()
            assert mg.is_grad_enabled()
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()
    with mg.set_grad_enabled(False):
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()


def test_grad_mode_is_thread_local():
    a = leaf([1.0])
    seen = []
    with mg.no_grad():
        worker = threading.Thread(target=lambda: seen.append((a * 2).requires_grad))
        worker.start()
        worker.join()
    assert seen == [True]


# -- views and version counters ------------------------------------------------------------------

def test_views_share_storage_and_version():
    base = mg.zeros(2, 3)
    views = [base[0], base.t(), base.view(6), base.reshape(3, 2), base.transpose(0, 1), base[:, 1:]]
    for v in views:
        assert v._base is base
    base[0, 0] = 5.0
    for v in views:
        assert v._version == 1
    assert base.view(6)[0].item() == 5.0
    views[0][1] = 7.0
    assert base[0, 1].item() == 7.0
    assert base._version == 2


def test_reshape_of_non_contiguous_copies():
    base = mg.zeros(2, 3)
    copy = base.t().reshape(6)
    assert copy._base is None
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        base.t().view(6)


def test_detach_shares_counter_data_has_its_own():
    a = leaf([1.0, 2.0])
    d = a.detach()
    assert d._version_counter is a._version_counter
    assert not d.requires_grad
    assert d.is_leaf
    data = a.data
    data.mul_(2)
    assert a._version == 0
    assert a.tolist() == [2.0, 4.0]


# -- in-place on non-leaves --------------------------------------------------------------------------

def test_inplace_rebases_history():
    a = leaf([1.0, 2.0])
    b = a * 1
    b.mul_(a)
    assert b.grad_fn.name() == "MulBackward0"
    assert b._version == 1
    b.sum().backward()
    assert a.grad.tolist() == [2.0, 4.0]


def test_inplace_keeps_original_value_for_other_input():
    a = leaf([1.0, 2.0])
    w = leaf([3.0, 5.0])
    b = a * 2
    b.mul_(w)
    b.exp_()
    b.sum().backward()
    expected = np.exp(np.array([6.0, 20.0]))
    np.testing.assert_allclose(w.grad.numpy(), expected * np.array([2.0, 4.0]), rtol=1e-5)
    np.testing.assert_allclose(a.grad.numpy(), expected * 2 * np.array([3.0, 5.0]), rtol=1e-5)


def test_inplace_after_saved_result_is_detected():
    a = leaf([1.0, 2.0])
    b = (a * 1).exp_()
    b.add_(1)
    with pytest.raises(RuntimeError, match="is at version 2; expected version 1 instead"):
        b.sum().backward()


def test_setitem_on_non_leaf_gives_copy_slices():
    a = leaf([1.0, 2.0, 3.0])
    v = leaf([10.0])
    b = a * 2
    b[1:2] = v * 3
    assert b.grad_fn.name() == "CopySlices"
    b.sum().backward()
    assert a.grad.tolist() == [2.0, 0.0, 2.0]
    assert v.grad.tolist() == [3.0]


def test_setitem_on_plain_tensor_with_grad_value():
    x = mg.zeros(3)
    v = leaf([1.0, 2.0])
    x[0:2] = v
    assert x.requires_grad
    assert x.grad_fn.name() == "CopySlices"
    (x * x).sum().backward()
    assert v.grad.tolist() == [2.0, 4.0]


def test_inplace_on_view_of_leaf_raises():
    a = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being used in an in-place operation."):
        a[0:1].add_(1)


def test_inplace_dtype_and_shape_errors_change_nothing():
    x = mg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        x.mul_(1.5)
    y = mg.ones(3)
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"):
        y.add_(mg.ones(2, 3))
    assert x.tolist() == [1, 2]
    assert x._version == 0
    assert y.tolist() == [1.0, 1.0, 1.0]
    assert y._version == 0


def test_inplace_under_no_grad_keeps_history():
    a = leaf([1.0, 2.0])
    b = a * 2
    fn = b.grad_fn
    with mg.no_grad():
        b.add_(1)
    assert b.grad_fn is fn
    assert b._version == 1


# -- hooks -----------------------------------------------------------------------------------------

def test_hook_replaces_gradient_and_handle_removes_it():
    a = leaf([1.0, 2.0])
    b = a * 1
    handle = b.register_hook(lambda g: g * 10)
    b.sum().backward()
    assert a.grad.tolist() == [10.0, 10.0]
    handle.remove()
    a.grad = None
    b = a * 1
    b.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0]


def test_leaf_hook_runs_before_accumulation():
    a = leaf([1.0, 2.0])
    seen = []
    a.register_hook(lambda g: seen.append(g.tolist()) or g * 2)
    (a * 3).sum().backward()
    assert seen == [[3.0, 3.0]]
    assert a.grad.tolist() == [6.0, 6.0]


def test_retain_grad_sees_hook_result():
    a = leaf([1.0])
    b = a * 1
    b.retain_grad()
    b.register_hook(lambda g: g + 1)
    b.sum().backward()
    assert b.grad.tolist() == [2.0]


def test_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        mg.ones(2).register_hook(lambda g: g)


# -- autograd.grad --------------------------------------------------------------------------------

def test_autograd_grad_leaves_dot_grad_untouched():
    a = leaf([1.0, 2.0])
    (ga,) = mg.autograd.grad((a * a).sum(), a)
    assert ga.tolist() == [2.0, 4.0]
    assert a.grad is None


def test_autograd_grad_unused_input():
    a, b = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        mg.autograd.grad((a * 2).sum(), [a, b])
    ga, gb = mg.autograd.grad((a * 2).sum(), [a, b], allow_unused=True)
    assert gb is None
    assert ga.tolist() == [2.0]


def test_create_graph_second_derivative():
    x = leaf([3.0])
    y = x * x * x
    (g,) = mg.autograd.grad(y.sum(), x, create_graph=True)
    assert g.tolist() == [27.0]
    (g2,) = mg.autograd.grad(g.sum(), x)
    assert g2.tolist() == [18.0]


# -- failed ops change nothing ----------------------------------------------------------------------

def test_broadcast_error_message():
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 1"):
        mg.ones(2, 3) + mg.ones(2, 4)


def test_promotion_rules():
    assert (mg.tensor([1, 2]) * 2.5).dtype is mg.float32
    assert (mg.tensor([1, 2]) + True).dtype is mg.int64
    assert (mg.tensor([1.0], dtype=mg.float32) + mg.tensor(1.0, dtype=mg.float64)).dtype is mg.float32
    assert (mg.tensor([1, 2]) + mg.tensor(1.5, dtype=mg.float64)).dtype is mg.float64
    assert (mg.tensor([True]) + mg.tensor([2])).dtype is mg.int64
    assert (mg.tensor([1, 2]) / 2).dtype is mg.float32
    assert (mg.tensor([1.0]) > 0).dtype is mg.bool
