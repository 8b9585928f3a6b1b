"""Higher-order gradients, custom Functions, node hooks, saved-tensor hooks and anomaly mode."""

from __future__ import annotations

import numpy as np
import pytest

import multigrad as mg


def leaf(values, dtype=mg.float64):
    return mg.tensor(values, dtype=dtype, requires_grad=True)


# -- higher-order gradients -------------------------------------------------------------------

def test_grad_of_constant_gradient_raises():
    x = leaf([3.0])
    f = 2 * x
    (g,) = mg.autograd.grad(f.sum(), x, create_graph=True)
    assert g.tolist() == [2.0]
    assert g.grad_fn is None
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
        mg.autograd.grad(g.sum(), x)


def test_backward_create_graph_then_second_backward():
    x = leaf([1.0, 2.0])
    y = (x ** 3).sum()
    y.backward(create_graph=True)
    assert x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]


def test_backward_inputs_limits_accumulation():
    a, b = leaf([1.0]), leaf([2.0])
    (a * b).sum().backward(inputs=[a])
    assert a.grad.tolist() == [2.0]
    assert b.grad is None


def test_grad_materialize_and_allow_unused():
    a, b = leaf([1.0]), leaf([2.0])
    ga, gb = mg.autograd.grad((a * 3).sum(), [a, b], materialize_grads=True)
    assert gb.tolist() == [0.0]
    with pytest.raises(ValueError, match="allow_unused"):
        mg.autograd.grad((a * 3).sum(), [a, b], materialize_grads=True, allow_unused=False)


def test_gradient_penalty_matches_torch(torch):
    values = np.array([[0.5, -1.0], [2.0, 0.3]])
    results = []
    for lib in (mg, torch):
        w = lib.tensor(values, requires_grad=True)
        x = lib.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=w.dtype, requires_grad=True)
        out = (x @ w).tanh().sum()
        (gx,) = lib.autograd.grad(out, x, create_graph=True)
        penalty = (gx * gx).sum()
        penalty.backward()
        results.append(w.grad.numpy().copy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-10)


def test_functional_matches_torch(torch):
    def f(lib):
        return lambda x, y: (x.exp() * y).sum() + (x * x * y).sum()

    xv, yv, vv = np.array([0.3, -0.2]), np.array([1.5, 2.0]), np.array([1.0, -1.0])
    ours = mg.autograd.functional
    theirs = torch.autograd.functional
    mx, my, mv = mg.tensor(xv), mg.tensor(yv), mg.tensor(vv)
    tx, ty, tv = torch.tensor(xv), torch.tensor(yv), torch.tensor(vv)

    for a, b in zip(ours.jacobian(f(mg), (mx, my)), theirs.jacobian(f(torch), (tx, ty))):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10)
    hess_ours, hess_theirs = ours.hessian(f(mg), (mx, my)), theirs.hessian(f(torch), (tx, ty))
    for row_ours, row_theirs in zip(hess_ours, hess_theirs):
        for a, b in zip(row_ours, row_theirs):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10)

    g = lambda lib: (lambda x: (x.sin() * x).sum())  # noqa: E731
    _, a = ours.hvp(g(mg), mx, mv)
    _, b = theirs.hvp(g(torch), tx, tv)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10)
    _, a = ours.vjp(lambda x: x * x, mx, mv)
    _, b = theirs.vjp(lambda x: x * x, tx, tv)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10)
    _, a = ours.jvp(lambda x: x.exp(), mx, mv)
    _, b = theirs.jvp(lambda x: x.exp(), tx, tv)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10)


# -- custom Functions -----------------------------------------------------------------------------

class Exp(mg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class ScaleBy(mg.autograd.Function):
    @staticmethod
    def forward(ctx, x, factor):
        ctx.factor = factor
        return x * factor

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor, None


def test_custom_function_forward_backward():
    x = leaf([0.0, 1.0])
    y = Exp.apply(x)
    assert y.grad_fn.name() == "ExpBackward"
    assert "grad_fn=<ExpBackward>" in repr(y)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.0, 1.0]))


def test_custom_function_needs_input_grad():
    seen = {}

    class Probe(mg.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, k):
            seen["needs"] = ctx.needs_input_grad
            return a * b * k

        @staticmethod
        def backward(ctx, grad):
            return grad, None, None

    a = leaf([1.0])
    Probe.apply(a, mg.tensor([2.0], dtype=mg.float64), 3).sum().backward()
    assert seen["needs"] == (True, False, False)
    assert ScaleBy.apply(a, 2.0).grad_fn.name() == "ScaleByBackward"


def test_custom_function_with_setup_context(torch):
    def make(lib):
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(x):
                return x ** 3

            @staticmethod
            def setup_context(ctx, inputs, output):
                (x,) = inputs
                ctx.save_for_backward(x)

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * 3 * x * x

        return Cube

    grads = []
    for lib in (mg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        make(lib).apply(x).sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1] == [3.0, 12.0]


def test_custom_function_saved_tensor_version_check():
    x = leaf([1.0])
    y = Exp.apply(x)
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_custom_function_wrong_gradient_count_and_shape():
    class TooMany(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    class WrongShape(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return mg.ones(5, dtype=mg.float64)

    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"function TooManyBackward returned an incorrect number of gradients \(expected 1, got 2\)"):
        TooMany.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match=r"Function WrongShapeBackward returned an invalid gradient at index 0 - got \[5\] but expected shape compatible with \[2\]"):
        WrongShape.apply(x).sum().backward()


def test_mark_dirty_and_non_differentiable():
    class AddOneInPlace(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    class WithIndex(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            idx = mg.tensor([0])
            ctx.mark_non_differentiable(idx)
            return x * 1, idx

        @staticmethod
        def backward(ctx, grad, grad_idx):
            return grad

    a = leaf([1.0, 2.0])
    b = a * 1
    c = AddOneInPlace.apply(b)
    assert c.tolist() == [2.0, 3.0]
    assert c.grad_fn.name() == "AddOneInPlaceBackward"
    c.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        AddOneInPlace.apply(leaf([1.0]))

    value, index = WithIndex.apply(leaf([1.0]))
    assert value.requires_grad
    assert not index.requires_grad


def test_set_materialize_grads_false_passes_none():
    seen = []

    class TwoOut(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append((g1 is None, g2 is None))
            return g1

    x = leaf([1.0])
    first, _ = TwoOut.apply(x)
    first.sum().backward()
    assert seen == [(False, True)]


def test_once_differentiable_blocks_double_backward():
    class Square(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @mg.autograd.once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    x = leaf([3.0])
    y = Square.apply(x)
    (g,) = mg.autograd.grad((y * y).sum(), x, create_graph=True)
    assert g.tolist() == [108.0]
    with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was marked with @once_differentiable"):
        g.sum().backward()


# -- node and tensor hooks ------------------------------------------------------------------------

def test_node_hooks_order_and_replacement():
    x = leaf([1.0, 2.0])
    y = x * 3
    events = []
    y.grad_fn.register_prehook(lambda grad_outputs: events.append(("pre", grad_outputs[0].tolist())))
    handle = y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: events.append(("post", grad_inputs[0].tolist())) or (grad_inputs[0] * 10, None))
    y.register_hook(lambda g: events.append(("tensor", g.tolist())))
    y.sum().backward()
    assert events == [("tensor", [1.0, 1.0]), ("pre", [1.0, 1.0]), ("post", [3.0, 3.0])]
    assert x.grad.tolist() == [30.0, 30.0]
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_post_accumulate_grad_hook():
    x = leaf([1.0])
    seen = []
    x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    (x * 4).sum().backward()
    assert seen == [[4.0]]
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)


def test_hooks_fire_under_autograd_grad():
    x = leaf([1.0])
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append("tensor"))
    y.grad_fn.register_prehook(lambda g: seen.append("pre"))
    mg.autograd.grad(y.sum(), x)
    assert seen == ["tensor", "pre"]


def test_saved_tensors_hooks_pack_and_unpack():
    packed = []

    def pack(t):
        packed.append(t.shape)
        return t.detach().numpy().copy()

    def unpack(array):
        return mg.tensor(array)

    x = leaf([1.0, 2.0])
    with mg.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = (x * x).sum()
    assert len(packed) == 2
    y.backward()
    assert x.grad.tolist() == [2.0, 4.0]


# -- anomaly mode ----------------------------------------------------------------------------------

def test_anomaly_mode_reports_forward_trace_and_nan():
    class Fails(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            raise ValueError("broken backward")

    x = leaf([0.0])
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        with mg.autograd.detect_anomaly():
            y = (x.sqrt() * 0).sum()  # d sqrt(x)/dx at 0 is inf; times 0 gives nan
            with pytest.raises(RuntimeError, match=r"Function 'SqrtBackward0' returned nan values in its 0th output."):
                y.backward()
            z = (x * 2).exp()
            with pytest.raises(RuntimeError, match="inplace"):
                w = x * 1
                q = w * w
                w.add_(1)
                q.sum().backward()
    assert not mg.autograd.is_anomaly_enabled()


def test_set_detect_anomaly_as_call_and_context():
    with mg.autograd.set_detect_anomaly(True, check_nan=False):
        assert mg.autograd.is_anomaly_enabled()
        assert not mg.autograd.is_anomaly_check_nan_enabled()
    assert not mg.autograd.is_anomaly_enabled()
