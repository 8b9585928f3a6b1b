"""The backward engine's array path against PyTorch: shared inputs, hooks, graph freeing, devices and dtypes.

Backward without create_graph, ``inputs=`` or anomaly mode runs generated
nodes on raw backend arrays. Each test builds one graph in multigrad and in
PyTorch from the same values and compares the gradients. The graphs mix
array-path nodes (mul, exp, sin, sum) with nodes that take Tensors: DivBackward0
(no array form), custom Functions, nodes with hooks and AccumulateGrad.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import multigrad as mg
from opencl.availability import require_opencl

FREED = "Trying to backward through the graph a second time"
MODIFIED = "one of the variables needed for gradient computation has been modified by an inplace operation"
TOLERANCES = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-10, atol=1e-12)}


def rand(*shape, seed=0, low=-1.5, high=1.5):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def leaf_pair(torch, array, dtype="float64", requires_grad=True):
    """Return (multigrad tensor, torch tensor) holding ``array`` as ``dtype``."""
    values = np.asarray(array, dtype=dtype)
    return (mg.tensor(values, requires_grad=requires_grad),
            torch.tensor(values, requires_grad=requires_grad))


def dtype_name(t):
    return str(t.dtype).split(".")[-1]


def assert_same_tensor(mine, theirs, description, tolerance=None):
    """Check that a multigrad tensor matches a torch tensor in shape, dtype and values.

    ``tolerance`` defaults to the one for the tensors' dtype. Pass the float32 one where float32 steps fed a float64 value.
    """
    assert mine is not None, f"{description}: multigrad has None, PyTorch has a tensor"
    assert tuple(mine.shape) == tuple(theirs.shape), f"{description}: shape {tuple(mine.shape)}, PyTorch {tuple(theirs.shape)}"
    assert dtype_name(mine) == dtype_name(theirs), f"{description}: dtype {mine.dtype}, PyTorch {theirs.dtype}"
    tolerance = tolerance or TOLERANCES.get(dtype_name(theirs), TOLERANCES["float32"])
    np.testing.assert_allclose(mine.detach().cpu().numpy(), theirs.detach().numpy(), err_msg=description, **tolerance)


def assert_same_grads(pairs, tolerance=None):
    """Check the ``.grad`` of each (multigrad, torch) pair of tensors, None included."""
    for index, (m, t) in enumerate(pairs):
        if t.grad is None:
            assert m.grad is None, f"tensor {index}: multigrad has a .grad, PyTorch has None"
            continue
        assert_same_tensor(m.grad, t.grad, f".grad of tensor {index}", tolerance)


def node_name(node):
    """Return a node's class name without PyTorch's C++ namespace (torch::autograd::AccumulateGrad)."""
    return node.name().split("::")[-1]


def make_cube(lib):
    """Return a custom Function of ``lib`` computing x ** 3 that saves its input."""

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    return Cube


def make_split(lib):
    """Return a custom Function of ``lib`` with two outputs, 2 * x and x * x."""

    class Split(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2, x * x

        @staticmethod
        def backward(ctx, grad_double, grad_square):
            (x,) = ctx.saved_tensors
            return grad_double * 2 + grad_square * 2 * x

    return Split


def make_drop(lib):
    """Return a custom Function of ``lib`` whose backward gives no gradient (None)."""

    class Drop(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return None

    return Drop


def make_failing(lib):
    """Return a custom Function of ``lib`` whose backward raises ValueError."""

    class Failing(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            raise ValueError("backward failed on purpose")

    return Failing


@pytest.fixture
def opencl():
    require_opencl()
    return "opencl"


# -- shared inputs and diamonds -----------------------------------------------------------------


def test_square_of_one_tensor(torch):
    x = leaf_pair(torch, rand(4))
    for t in x:
        (t * t).sum().backward()
    assert_same_grads([x])


def test_sum_of_one_tensor(torch):
    x = leaf_pair(torch, rand(4))
    for t in x:
        (t + t).sum().backward()
    assert_same_grads([x])


def test_cube_of_one_tensor(torch):
    x = leaf_pair(torch, rand(2, 3))
    for t in x:
        ((t * t) * t - t).exp().sum().backward()
    assert_same_grads([x])


def test_three_consumers(torch):
    # y feeds an array-path node (exp), a node taking y twice (y * y) and DivBackward0 (Tensor path).
    pairs = [leaf_pair(torch, rand(3, seed=1)), leaf_pair(torch, rand(3, seed=2))]
    for x, w in zip(*pairs):
        y = x * w
        loss = y.exp().sum() + (y * y).sum() + (y / 3).sum()
        loss.backward()
    assert_same_grads(pairs)


def test_diamond_of_diamonds(torch):
    pairs = [leaf_pair(torch, rand(5, seed=3))]
    for (x,) in zip(*pairs):
        a = x.sin()
        b = a * a + a.exp()
        c = b.tanh() * b + a
        c.sum().backward()
    assert_same_grads(pairs)


def test_array_and_custom_function_meet(torch):
    pairs = [leaf_pair(torch, rand(4, seed=4))]
    for lib, (x,) in zip((mg, torch), zip(*pairs)):
        y = x.sin()
        loss = make_cube(lib).apply(y) + y.exp() * 2 + make_cube(lib).apply(y * 3)
        loss.sum().backward()
    assert_same_grads(pairs)


def test_custom_function_between_array_nodes(torch):
    pairs = [leaf_pair(torch, rand(4, seed=5)), leaf_pair(torch, rand(4, seed=6))]
    for lib, (x, w) in zip((mg, torch), zip(*pairs)):
        inner = make_cube(lib).apply(x.exp() * w)
        loss = (inner.sin() * x).sum() + inner.sum()
        loss.backward()
    assert_same_grads(pairs)


def test_custom_function_two_outputs(torch):
    # Only the second output reaches the loss, so the first output's gradient is materialized as zeros.
    pairs = [leaf_pair(torch, rand(3, seed=7))]
    for lib, (x,) in zip((mg, torch), zip(*pairs)):
        _, square = make_split(lib).apply(x.exp())
        (square.sin() + square).sum().backward()
    assert_same_grads(pairs)


def test_custom_function_both_outputs(torch):
    pairs = [leaf_pair(torch, rand(3, seed=82))]
    for lib, (x,) in zip((mg, torch), zip(*pairs)):
        double, square = make_split(lib).apply(x.sin())
        (double.exp() * square + square * 3).sum().backward()
    assert_same_grads(pairs)


def test_hook_on_second_output(torch):
    pairs = [leaf_pair(torch, rand(3, seed=83))]
    seen = ([], [])
    for lib, (x,), record in zip((mg, torch), zip(*pairs), seen):
        double, square = make_split(lib).apply(x * 2)
        square.register_hook(lambda g, record=record: record.append(g.detach().clone()) or g * 3)
        square.retain_grad()
        (double * square + square.exp()).sum().backward()
        record.append(square.grad)
    assert len(seen[0]) == 2
    assert_same_tensor(seen[0][0], seen[1][0], "gradient seen by the hook")
    assert_same_tensor(seen[0][1], seen[1][1], "retained grad of the second output")
    assert_same_grads(pairs)


def test_custom_function_none_gradient(torch):
    pairs = [leaf_pair(torch, rand(3, seed=8)), leaf_pair(torch, rand(3, seed=9))]
    for lib, (x, w) in zip((mg, torch), zip(*pairs)):
        dropped = make_drop(lib).apply(x.exp())
        (dropped * w).sum().backward()
    assert_same_grads(pairs)


def test_hook_calls_for_none_gradient(torch):
    calls = ([], [])
    for lib, record in zip((mg, torch), calls):
        x = lib.tensor(rand(3, seed=84), requires_grad=True)
        y = x.exp()
        y.register_hook(lambda g, record=record: record.append(g))
        (make_drop(lib).apply(y) * 2).sum().backward()
        assert x.grad is None
    assert len(calls[0]) == len(calls[1])


def test_custom_function_none_meets_array_gradient(torch):
    pairs = [leaf_pair(torch, rand(3, seed=10))]
    for lib, (x,) in zip((mg, torch), zip(*pairs)):
        y = x * 3
        (make_drop(lib).apply(y) + y.exp()).sum().backward()
    assert_same_grads(pairs)


# -- every array-path node, with its output used twice ------------------------------------------------

# (id, function of (lib, x, w), domain of x). x is (2, 3) and w is (3,), both requiring grad.
ARRAY_NODES = [
    ("add", lambda lib, x, w: x + w, (-1.5, 1.5)),
    ("sub", lambda lib, x, w: x - w, (-1.5, 1.5)),
    ("mul", lambda lib, x, w: x * w, (-1.5, 1.5)),
    ("neg", lambda lib, x, w: -x * w, (-1.5, 1.5)),
    ("exp", lambda lib, x, w: (x * w).exp(), (-1.5, 1.5)),
    ("log", lambda lib, x, w: x.log() * w, (0.2, 2.0)),
    ("sqrt", lambda lib, x, w: x.sqrt() * w, (0.2, 2.0)),
    ("abs", lambda lib, x, w: (x * w).abs(), (0.2, 2.0)),
    ("relu", lambda lib, x, w: (x + w).relu(), (-1.5, 1.5)),
    ("sigmoid", lambda lib, x, w: (x * w).sigmoid(), (-1.5, 1.5)),
    ("tanh", lambda lib, x, w: (x * w).tanh(), (-1.5, 1.5)),
    ("where", lambda lib, x, w: lib.where(x > 0, x, w), (-1.5, 1.5)),
    ("sum_dim", lambda lib, x, w: (x * w).sum(1, keepdim=True) * x, (-1.5, 1.5)),
    ("mean_dim", lambda lib, x, w: (x * w).mean(0) * w, (-1.5, 1.5)),
    ("matmul_2d", lambda lib, x, w: x @ (w.reshape(3, 1) * w), (-1.5, 1.5)),
    ("matmul_vector", lambda lib, x, w: x @ w, (-1.5, 1.5)),
    ("expand", lambda lib, x, w: w.expand(2, 3) * x, (-1.5, 1.5)),
    ("clone", lambda lib, x, w: (x * w).clone(), (-1.5, 1.5)),
    ("exp2", lambda lib, x, w: (x * w).exp2(), (-1.5, 1.5)),
    ("expm1", lambda lib, x, w: (x * w).expm1(), (-1.5, 1.5)),
    ("log2", lambda lib, x, w: x.log2() * w, (0.2, 2.0)),
    ("log10", lambda lib, x, w: x.log10() * w, (0.2, 2.0)),
    ("log1p", lambda lib, x, w: x.log1p() * w, (0.2, 2.0)),
    ("rsqrt", lambda lib, x, w: x.rsqrt() * w, (0.2, 2.0)),
    ("reciprocal", lambda lib, x, w: x.reciprocal() * w, (0.2, 2.0)),
    ("square", lambda lib, x, w: (x * w).square(), (-1.5, 1.5)),
    ("sin", lambda lib, x, w: (x * w).sin(), (-1.5, 1.5)),
    ("cos", lambda lib, x, w: (x * w).cos(), (-1.5, 1.5)),
    ("tan", lambda lib, x, w: (x * w).tan(), (-0.8, 0.8)),
    ("asin", lambda lib, x, w: x.asin() * w, (-0.8, 0.8)),
    ("acos", lambda lib, x, w: x.acos() * w, (-0.8, 0.8)),
    ("atan", lambda lib, x, w: (x * w).atan(), (-1.5, 1.5)),
    ("sinh", lambda lib, x, w: (x * w).sinh(), (-1.5, 1.5)),
    ("cosh", lambda lib, x, w: (x * w).cosh(), (-1.5, 1.5)),
    ("erf", lambda lib, x, w: (x * w).erf(), (-1.5, 1.5)),
    ("atan2", lambda lib, x, w: lib.atan2(x, w), (-1.5, 1.5)),
    ("leaky_relu", lambda lib, x, w: lib.nn.functional.leaky_relu(x * w, 0.1), (-1.5, 1.5)),
    ("elu", lambda lib, x, w: lib.nn.functional.elu(x * w), (-1.5, 1.5)),
    ("softplus", lambda lib, x, w: lib.nn.functional.softplus(x * w), (-1.5, 1.5)),
    ("frac", lambda lib, x, w: (x * 3.3).frac() * w, (0.1, 1.5)),
    ("maximum", lambda lib, x, w: lib.maximum(x, w), (-1.5, 1.5)),
    ("minimum", lambda lib, x, w: lib.minimum(x, w), (-1.5, 1.5)),
    ("softmax", lambda lib, x, w: (x * w).softmax(1), (-1.5, 1.5)),
    ("log_softmax", lambda lib, x, w: (x * w).log_softmax(0), (-1.5, 1.5)),
    ("logsigmoid", lambda lib, x, w: lib.nn.functional.logsigmoid(x * w), (-1.5, 1.5)),
    ("max_pool", lambda lib, x, w: lib.nn.functional.max_pool2d((x * w).reshape(1, 1, 2, 3), 2, 1), (-1.5, 1.5)),
]


@pytest.fixture(params=["numpy", "opencl"])
def device(request):
    if request.param == "opencl":
        require_opencl()
    return request.param


@pytest.mark.parametrize("build, domain", [case[1:] for case in ARRAY_NODES], ids=[case[0] for case in ARRAY_NODES])
def test_array_node_output_used_twice(torch, device, build, domain):
    low, high = domain
    arrays = rand(2, 3, seed=93, low=low, high=high), rand(3, seed=94) + 2.0
    x, w = (mg.tensor(a, device=device, requires_grad=True) for a in arrays)
    tx, tw = (torch.tensor(a, requires_grad=True) for a in arrays)
    for lib, (a, b) in ((mg, (x, w)), (torch, (tx, tw))):
        y = build(lib, a, b)
        (y * y.sin() + y).sum().backward()
    assert_same_grads([(x, tx), (w, tw)])


# Binary ops whose node takes w directly, so that a 0-d w meets the gradient of x inside the node.
BINARY_NODES = [
    ("add", lambda lib, x, w: x + w),
    ("sub", lambda lib, x, w: x - w),
    ("mul", lambda lib, x, w: x * w),
    ("div", lambda lib, x, w: x / w),
    ("where", lambda lib, x, w: lib.where(x > 0, x, w)),
    ("atan2", lambda lib, x, w: lib.atan2(x, w)),
    ("maximum", lambda lib, x, w: lib.maximum(x, w)),
    ("minimum", lambda lib, x, w: lib.minimum(x, w)),
]


@pytest.mark.parametrize("build", [case[1] for case in BINARY_NODES], ids=[case[0] for case in BINARY_NODES])
def test_binary_node_float32_with_zero_dim_float64(torch, device, build):
    # A 0-d float64 w does not widen the float32 x, so the result and the gradient of x stay float32.
    arrays = rand(2, 3, seed=95).astype("float32"), np.array(0.5)
    x, w = (mg.tensor(a, device=device, requires_grad=True) for a in arrays)
    tx, tw = (torch.tensor(a, requires_grad=True) for a in arrays)
    for lib, (a, b) in ((mg, (x, w)), (torch, (tx, tw))):
        y = build(lib, a, b)
        (y * y.exp()).sum().backward()
    assert_same_grads([(x, tx), (w, tw)], TOLERANCES["float32"])


def test_saved_tensors_hooks_on_array_path(torch):
    pairs = [leaf_pair(torch, rand(3, seed=96)), leaf_pair(torch, rand(3, seed=97))]
    calls = ([], [])
    for lib, (x, w), record in zip((mg, torch), zip(*pairs), calls):
        def pack(t, record=record):
            record.append("pack")
            return t.detach().clone()

        def unpack(t, record=record):
            record.append("unpack")
            return t

        with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = x * w
            z = y.sin()
        (z * 2).sum().backward()
    assert calls[0] == calls[1]
    assert_same_grads(pairs)


# -- hooks and retain_grad ------------------------------------------------------------------------


def test_hook_in_chain_replaces_gradient(torch):
    pairs = [leaf_pair(torch, rand(3, seed=11)), leaf_pair(torch, rand(3, seed=12))]
    middles = []
    for x, w in zip(*pairs):
        a = x * w
        b = a.exp()
        c = b * 3
        a.retain_grad()
        b.retain_grad()
        b.register_hook(lambda g: g * 10)
        c.sum().backward()
        middles.append((a, b))
    assert_same_grads(pairs)
    assert_same_tensor(middles[0][0].grad, middles[1][0].grad, "retained grad of a")
    assert_same_tensor(middles[0][1].grad, middles[1][1].grad, "retained grad of b")


def test_hook_sees_summed_gradient(torch):
    pairs = [leaf_pair(torch, rand(3, seed=13))]
    seen = ([], [])
    for (x,), record in zip(zip(*pairs), seen):
        y = x.sin()
        y.register_hook(lambda g, record=record: record.append(g.detach().clone()))
        (y * y + y.exp() + y / 2).sum().backward()
    assert len(seen[0]) == 1
    assert len(seen[1]) == 1
    assert_same_tensor(seen[0][0], seen[1][0], "gradient seen by the hook")
    assert_same_grads(pairs)


def test_hooks_replace_on_two_branches(torch):
    pairs = [leaf_pair(torch, rand(4, seed=14))]
    for (x,) in zip(*pairs):
        y = x * 2
        left = y.exp()
        right = y.sin()
        left.register_hook(lambda g: g * 3)
        right.register_hook(lambda g: g - 1)
        (left * right).sum().backward()
    assert_same_grads(pairs)


def test_hook_call_order(torch):
    orders = ([], [])
    for lib, order in zip((mg, torch), orders):
        x = lib.tensor(rand(3, seed=15), requires_grad=True)
        y = x * 2
        branches = {"exp": y.exp(), "sin_sin": y.sin().sin(), "mul": y * 5, "cube": make_cube(lib).apply(y)}
        for name, tensor in branches.items():
            tensor.register_hook(lambda g, name=name, order=order: order.append(name))
        y.register_hook(lambda g, order=order: order.append("y"))
        sum(t.sum() for t in branches.values()).backward()
    assert orders[0] == orders[1]


def test_retain_grad_sees_hook_result(torch):
    # PyTorch runs retain_grad after every other tensor hook, whichever was registered first.
    retained = []
    pairs = [leaf_pair(torch, rand(3, seed=16))]
    for (x,) in zip(*pairs):
        y = x.exp()
        y.retain_grad()
        y.register_hook(lambda g: g * 4)
        (y * y).sum().backward()
        retained.append(y.grad)
    assert_same_tensor(retained[0], retained[1], "retained grad")
    assert_same_grads(pairs)


def test_leaf_hook_and_post_accumulate_hook(torch):
    pairs = [leaf_pair(torch, rand(3, seed=17))]
    seen = ([], [])
    for (x,), record in zip(zip(*pairs), seen):
        x.register_hook(lambda g: g * 2)
        x.register_post_accumulate_grad_hook(lambda t, record=record: record.append(t.grad.detach().clone()))
        (x.exp() * x).sum().backward()
    assert len(seen[0]) == 1
    assert_same_tensor(seen[0][0], seen[1][0], ".grad seen by the post-accumulate hook")
    assert_same_grads(pairs)


def test_node_prehook_replaces_grad_outputs(torch):
    pairs = [leaf_pair(torch, rand(3, seed=18)), leaf_pair(torch, rand(3, seed=19))]
    for x, w in zip(*pairs):
        y = x.exp()
        z = (y * w).sin()
        y.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0] * 5,))
        z.sum().backward()
    assert_same_grads(pairs)


def test_node_posthook_replaces_grad_inputs(torch):
    pairs = [leaf_pair(torch, rand(3, seed=20)), leaf_pair(torch, rand(3, seed=21))]
    seen = ([], [])
    for (x, w), record in zip(zip(*pairs), seen):
        y = x * w

        def hook(grad_inputs, grad_outputs, record=record):
            record.append(grad_outputs[0].detach().clone())
            return grad_inputs[0] * 2, grad_inputs[1] + 1

        y.grad_fn.register_hook(hook)
        y.exp().sum().backward()
    assert len(seen[0]) == 1
    assert_same_tensor(seen[0][0], seen[1][0], "grad_outputs seen by the post-hook")
    assert_same_grads(pairs)


def test_accumulate_grad_prehook(torch):
    pairs = [leaf_pair(torch, rand(3, seed=22))]
    for (x,) in zip(*pairs):
        y = x.exp()
        accumulate = y.grad_fn.next_functions[0][0]
        accumulate.register_prehook(lambda grad_outputs: (grad_outputs[0] * 7,))
        (y * y).sum().backward()
    assert_same_grads(pairs)


def test_removed_hook_leaves_array_path(torch):
    pairs = [leaf_pair(torch, rand(3, seed=23))]
    for (x,) in zip(*pairs):
        y = x.sin()
        handle = y.register_hook(lambda g: g * 100)
        node_handle = y.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0] * 100,))
        handle.remove()
        node_handle.remove()
        (y * y).sum().backward()
    assert_same_grads(pairs)


# -- graph freeing and retain_graph ----------------------------------------------------------------


def build_mixed(lib, x, w):
    """Return a loss over array-path nodes, DivBackward0, a custom Function and a hooked node."""
    y = x * w
    z = y.exp()
    z.register_hook(lambda g: g * 2)
    return (make_cube(lib).apply(z) / 4 + y.sin() * y).sum()


def test_retain_graph_then_second_backward(torch):
    pairs = [leaf_pair(torch, rand(3, seed=24)), leaf_pair(torch, rand(3, seed=25))]
    for lib, (x, w) in zip((mg, torch), zip(*pairs)):
        loss = build_mixed(lib, x, w)
        loss.backward(retain_graph=True)
        loss.backward()
    assert_same_grads(pairs)


def test_hook_added_between_backwards(torch):
    pairs = [leaf_pair(torch, rand(3, seed=91))]
    for (x,) in zip(*pairs):
        y = x.sin()
        loss = (y * y.exp()).sum()
        loss.backward(retain_graph=True)
        y.register_hook(lambda g: g * 5)
        y.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0] + 1,))
        loss.backward()
    assert_same_grads(pairs)


def test_retain_graph_third_backward_raises(torch):
    for lib in (mg, torch):
        x = lib.tensor(rand(3, seed=26), requires_grad=True)
        w = lib.tensor(rand(3, seed=27), requires_grad=True)
        loss = build_mixed(lib, x, w)
        loss.backward(retain_graph=True)
        loss.backward()
        with pytest.raises(RuntimeError, match=FREED):
            loss.backward()


def graph_array(lib, x):
    return (x * x).sum()


def graph_exp_result(lib, x):
    return x.exp().sin().sum()


def graph_custom(lib, x):
    return make_cube(lib).apply(x * 2).sum()


def graph_hooked(lib, x):
    y = x.exp()
    y.register_hook(lambda g: g * 2)
    return (y * y).sum()


def graph_node_hooked(lib, x):
    y = x * x
    y.grad_fn.register_prehook(lambda grad_outputs: None)
    return y.sum()


def graph_cross_entropy(lib, x):
    return lib.nn.functional.cross_entropy(x.reshape(1, 3), lib.tensor([1]))


@pytest.mark.parametrize("build", [graph_array, graph_exp_result, graph_custom, graph_hooked, graph_node_hooked,
                                   graph_cross_entropy])
def test_second_backward_raises(torch, build):
    for lib in (mg, torch):
        x = lib.tensor(rand(3, seed=28), requires_grad=True)
        loss = build(lib, x)
        loss.backward()
        with pytest.raises(RuntimeError, match=FREED):
            loss.backward()


def test_saved_tensors_freed_before_failure(torch):
    # MulBackward0 runs and frees what it saved before the custom Function's backward raises.
    for lib in (mg, torch):
        x = lib.tensor(rand(3, seed=29), requires_grad=True)
        y = make_failing(lib).apply(x)
        loss = (y * y).sum()
        with pytest.raises(ValueError, match="backward failed on purpose"):
            loss.backward()
        with pytest.raises(RuntimeError, match=FREED):
            loss.backward()


def test_retained_graph_survives_failure(torch):
    for lib in (mg, torch):
        x = lib.tensor(rand(3, seed=30), requires_grad=True)
        y = make_failing(lib).apply(x)
        loss = (y * y).sum()
        with pytest.raises(ValueError, match="backward failed on purpose"):
            loss.backward(retain_graph=True)
        with pytest.raises(ValueError, match="backward failed on purpose"):
            loss.backward()


# -- inputs= and autograd.grad ------------------------------------------------------------------


def test_backward_inputs_leaf_subset(torch):
    pairs = [leaf_pair(torch, rand(3, seed=31)), leaf_pair(torch, rand(3, seed=32))]
    for lib, (x, w) in zip((mg, torch), zip(*pairs)):
        build_mixed(lib, x, w).backward(inputs=[x])
    assert_same_grads(pairs)


def test_backward_inputs_non_leaf(torch):
    pairs = [leaf_pair(torch, rand(3, seed=33)), leaf_pair(torch, rand(3, seed=34))]
    middles = []
    for x, w in zip(*pairs):
        y = x * w
        ((y.exp() + y) * y).sum().backward(inputs=[y, w])
        middles.append(y)
    assert_same_grads(pairs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PyTorch warns about a non-leaf's .grad only while it is None
        assert_same_tensor(middles[0].grad, middles[1].grad, ".grad of the non-leaf input")


def test_backward_inputs_runs_hooks(torch):
    pairs = [leaf_pair(torch, rand(3, seed=35))]
    seen = ([], [])
    for (x,), record in zip(zip(*pairs), seen):
        y = x * 3
        y.register_hook(lambda g, record=record: record.append(g.detach().clone()) or g * 2)
        (y.exp() * y).sum().backward(inputs=[x])
    assert len(seen[0]) == 1
    assert_same_tensor(seen[0][0], seen[1][0], "gradient seen by the hook")
    assert_same_grads(pairs)


def test_autograd_grad_on_mixed_graph(torch):
    results = []
    pairs = [leaf_pair(torch, rand(3, seed=36)), leaf_pair(torch, rand(3, seed=37))]
    for lib, (x, w) in zip((mg, torch), zip(*pairs)):
        y = x * w
        loss = (make_cube(lib).apply(y.exp()) / 4 + y.sin() * y).sum()
        results.append(lib.autograd.grad(loss, [x, w, y]))
    for index, (mine, theirs) in enumerate(zip(*results)):
        assert_same_tensor(mine, theirs, f"gradient {index}")
    assert pairs[0][0].grad is None
    assert pairs[1][0].grad is None


def test_autograd_grad_captures_hook_result(torch):
    # Only y is an input. With x as an input too, PyTorch 2.13 returns y's gradient before the hook runs.
    results = []
    for lib in (mg, torch):
        x = lib.tensor(rand(3, seed=90), requires_grad=True)
        y = x.exp()
        y.register_hook(lambda g: g * 3)
        results.append(lib.autograd.grad((y * y.sin()).sum(), [y]))
    for index, (mine, theirs) in enumerate(zip(*results)):
        assert_same_tensor(mine, theirs, f"gradient {index}")


def test_autograd_grad_then_backward(torch):
    pairs = [leaf_pair(torch, rand(3, seed=38)), leaf_pair(torch, rand(3, seed=39))]
    results = []
    for lib, (x, w) in zip((mg, torch), zip(*pairs)):
        loss = build_mixed(lib, x, w)
        results.append(lib.autograd.grad(loss, [w], retain_graph=True))
        loss.backward()
    assert_same_tensor(results[0][0], results[1][0], "gradient of w")
    assert_same_grads(pairs)


# -- create_graph ---------------------------------------------------------------------------------


def test_create_graph_double_backward(torch):
    pairs = [leaf_pair(torch, rand(3, seed=40)), leaf_pair(torch, rand(3, seed=41))]
    results = []
    for lib, (x, w) in zip((mg, torch), zip(*pairs)):
        y = x * x * w
        loss = (y.sin() + make_cube(lib).apply(y) + y.exp() / 3).sum()
        gx, gw = lib.autograd.grad(loss, [x, w], create_graph=True)
        results.append(lib.autograd.grad((gx * gx).sum() + (gw * x).sum(), [x, w]))
    for index, (mine, theirs) in enumerate(zip(*results)):
        assert_same_tensor(mine, theirs, f"second derivative {index}")


def test_backward_create_graph_grad_history(torch):
    pairs = [leaf_pair(torch, rand(3, seed=42))]
    for (x,) in zip(*pairs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch warns that .grad with history forms a reference cycle
            (x.exp() * x * x).sum().backward(create_graph=True)
        first = x.grad
        assert first.requires_grad
        x.grad = None
        (first * first).sum().backward()
    assert_same_grads(pairs)


def test_anomaly_mode_same_gradients(torch):
    mine = mg.tensor(rand(3, seed=43), requires_grad=True)
    w = mg.tensor(rand(3, seed=44), requires_grad=True)
    build_mixed(mg, mine, w).backward()
    plain = (mine.grad.numpy().copy(), w.grad.numpy().copy())
    mine.grad = w.grad = None
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        with mg.autograd.detect_anomaly():
            build_mixed(mg, mine, w).backward()
    np.testing.assert_allclose(mine.grad.numpy(), plain[0], rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), plain[1], rtol=1e-12)


# -- broadcasting and dtypes ------------------------------------------------------------------------


def test_bias_broadcast(torch):
    pairs = [leaf_pair(torch, rand(2, 3, seed=45)), leaf_pair(torch, rand(3, seed=46)),
             leaf_pair(torch, rand(1, 3, seed=47)), leaf_pair(torch, rand(2, 1, seed=48))]
    for a, bias, row, column in zip(*pairs):
        hidden = (a * row + bias).tanh()
        (hidden * column + hidden.exp() * bias).sum().backward()
    assert_same_grads(pairs)


def test_zero_dim_inputs(torch):
    pairs = [leaf_pair(torch, 0.7), leaf_pair(torch, -1.2), leaf_pair(torch, rand(2, 3, seed=49))]
    for s, t, m in zip(*pairs):
        root = (s * t).exp() + (m * s).sum() + (m + t).sin().sum()
        root.backward()
    assert_same_grads(pairs)


def test_zero_dim_root_from_zero_dim_leaf(torch):
    pairs = [leaf_pair(torch, 0.3)]
    for (s,) in zip(*pairs):
        (s * s).exp().backward()
    assert_same_grads(pairs)


def test_mixed_float_dtypes(torch):
    pairs = [leaf_pair(torch, rand(2, 3, seed=50), "float32"), leaf_pair(torch, rand(3, seed=51), "float64"),
             leaf_pair(torch, 1.5, "float64"), leaf_pair(torch, 0.5, "float32")]
    roots = []
    for a, b, s, t in zip(*pairs):
        wide = a * b            # float64
        narrow = (a * s).exp()  # float32, because a 0-d tensor does not widen a dimensioned one
        root = wide.sum() + narrow.sum() + (b * t).sin().sum()
        roots.append(root)
        root.backward()
    assert dtype_name(roots[0]) == dtype_name(roots[1])
    assert_same_grads(pairs, TOLERANCES["float32"])


def test_float32_times_zero_dim_float64(torch):
    pairs = [leaf_pair(torch, rand(2, 3, seed=92), "float32"), leaf_pair(torch, 1.5, "float64")]
    for a, s in zip(*pairs):
        (a * s).sum().backward()
    assert_same_grads(pairs, TOLERANCES["float32"])


def test_mixed_dtypes_through_custom_function(torch):
    pairs = [leaf_pair(torch, rand(3, seed=52), "float32"), leaf_pair(torch, rand(3, seed=53), "float64")]
    for lib, (a, b) in zip((mg, torch), zip(*pairs)):
        (make_cube(lib).apply(a * b) + a.exp()).sum().backward()
    assert_same_grads(pairs, TOLERANCES["float32"])


def test_dtype_cast_in_graph(torch):
    pairs = [leaf_pair(torch, rand(3, seed=54), "float32")]
    for (a,) in zip(*pairs):
        wide = a.double() * 3
        (wide.exp() + a.sin()).sum().backward()
    assert_same_grads(pairs, TOLERANCES["float32"])


# -- in-place changes of saved tensors ----------------------------------------------------------


@pytest.mark.parametrize("hooked", [False, True], ids=["array_node", "hooked_node"])
def test_inplace_on_saved_input_detected(torch, hooked):
    for lib in (mg, torch):
        x = lib.tensor(rand(3, seed=55), requires_grad=True)
        y = x * 1
        z = y.sin()  # saves y
        if hooked:
            z.grad_fn.register_prehook(lambda grad_outputs: None)
        y.add_(1)
        with pytest.raises(RuntimeError, match=MODIFIED):
            (z * 2).sum().backward()


def test_inplace_on_saved_result_detected(torch):
    for lib in (mg, torch):
        x = lib.tensor(rand(3, seed=56), requires_grad=True)
        y = (x * 2).exp()  # ExpBackward0 saves its result
        loss = (y * 3).sum()
        y.mul_(2)
        with pytest.raises(RuntimeError, match=MODIFIED):
            loss.backward()


def test_inplace_on_unsaved_tensor_allowed(torch):
    pairs = [leaf_pair(torch, rand(3, seed=57))]
    for (x,) in zip(*pairs):
        y = x * 2
        loss = (y + 1).exp().sum()
        y.add_(5)
        loss.backward()
    assert_same_grads(pairs)


# -- devices ----------------------------------------------------------------------------------------


def test_opencl_round_trip(torch, opencl):
    arrays = rand(2, 3, seed=58), rand(3, seed=59)
    x = mg.tensor(arrays[0], requires_grad=True)
    w = mg.tensor(arrays[1], requires_grad=True)
    y = (x * w).to(opencl)
    z = (y.exp() * y).sin().to("cpu")
    (z + x.sin() * w).sum().backward()

    tx = torch.tensor(arrays[0], requires_grad=True)
    tw = torch.tensor(arrays[1], requires_grad=True)
    ty = tx * tw
    ((ty.exp() * ty).sin() + tx.sin() * tw).sum().backward()

    assert str(x.grad.device) == "numpy"
    assert_same_grads([(x, tx), (w, tw)])


def test_opencl_leaf_and_cpu_branch(torch, opencl):
    arrays = rand(4, seed=60), rand(4, seed=61)
    x = mg.tensor(arrays[0], device=opencl, requires_grad=True)
    w = mg.tensor(arrays[1], requires_grad=True)
    on_cpu = x.to("cpu") * w
    on_device = (x * x).exp()
    (on_cpu.exp().sum() + on_device.sum().to("cpu") + (on_cpu * on_cpu).sum()).backward()

    tx = torch.tensor(arrays[0], requires_grad=True)
    tw = torch.tensor(arrays[1], requires_grad=True)
    t_cpu = tx * tw
    (t_cpu.exp().sum() + (tx * tx).exp().sum() + (t_cpu * t_cpu).sum()).backward()

    assert str(x.grad.device).startswith("opencl")
    assert_same_grads([(x, tx), (w, tw)])


def test_opencl_hooks_and_custom_function(torch, opencl):
    array = rand(3, seed=62)
    x = mg.tensor(array, requires_grad=True)
    y = x.to(opencl) * 2
    y.register_hook(lambda g: g * 3)
    z = make_cube(mg).apply(y.exp()).to("cpu")
    (z + x).sum().backward()

    tx = torch.tensor(array, requires_grad=True)
    ty = tx * 2
    ty.register_hook(lambda g: g * 3)
    (make_cube(torch).apply(ty.exp()) + tx).sum().backward()

    assert_same_grads([(x, tx)])


# -- accumulation, roots and branches without grad ----------------------------------------------


def test_leaf_grad_accumulates_over_two_backwards(torch):
    pairs = [leaf_pair(torch, rand(3, seed=63)), leaf_pair(torch, rand(3, seed=64))]
    firsts = []
    for x, w in zip(*pairs):
        (x * w).exp().sum().backward()
        firsts.append(x.grad)
        (x.sin() * x + w).sum().backward()
    assert_same_grads(pairs)
    # PyTorch adds the second gradient into the first .grad in place, so .grad stays the same object.
    assert (pairs[0][0].grad is firsts[0]) == (pairs[0][1].grad is firsts[1])


def test_accumulation_leaves_root_gradient_unchanged(torch):
    pairs = [leaf_pair(torch, rand(3, seed=65))]
    gradient = rand(3, seed=66)
    gradients = (mg.tensor(gradient), torch.tensor(gradient))
    for (x,), g in zip(zip(*pairs), gradients):
        (x + 1).backward(g)
        (x + 2).backward(g)
    assert_same_grads(pairs)
    np.testing.assert_array_equal(gradients[0].numpy(), gradient)


def test_non_scalar_root_with_gradient(torch):
    pairs = [leaf_pair(torch, rand(2, 3, seed=67)), leaf_pair(torch, rand(3, seed=68))]
    gradient = rand(2, 3, seed=69)
    for lib, (x, w) in zip((mg, torch), zip(*pairs)):
        y = (x * w).exp() + x / 2
        y.backward(lib.tensor(gradient))
    assert_same_grads(pairs)


def test_non_scalar_root_gradient_of_other_dtype(torch):
    pairs = [leaf_pair(torch, rand(3, seed=70))]
    gradient = rand(3, seed=71).astype("float32")
    for lib, (x,) in zip((mg, torch), zip(*pairs)):
        (x * x).backward(lib.tensor(gradient))
    assert_same_grads(pairs)


def test_non_scalar_root_without_gradient_raises(torch):
    for lib in (mg, torch):
        x = lib.tensor(rand(3, seed=72), requires_grad=True)
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
            (x * x).backward()


def test_leaf_root_with_gradient(torch):
    pairs = [leaf_pair(torch, rand(3, seed=73))]
    gradient = rand(3, seed=74)
    for lib, (x,) in zip((mg, torch), zip(*pairs)):
        x.backward(lib.tensor(gradient))
    assert_same_grads(pairs)


def test_same_root_twice(torch):
    pairs = [leaf_pair(torch, rand(3, seed=85))]
    gradients = rand(3, seed=86), rand(3, seed=87)
    for lib, (x,) in zip((mg, torch), zip(*pairs)):
        y = x.exp() * x
        lib.autograd.backward([y, y], [lib.tensor(g) for g in gradients])
    assert_same_grads(pairs)


def test_retain_grad_on_root(torch):
    gradient = rand(3, seed=88)
    retained = []
    for lib in (mg, torch):
        x = lib.tensor(rand(3, seed=89), requires_grad=True)
        y = x.sin()
        y.retain_grad()
        y.backward(lib.tensor(gradient))
        retained.append(y.grad)
    assert_same_tensor(retained[0], retained[1], "retained grad of the root")


def test_two_roots(torch):
    pairs = [leaf_pair(torch, rand(3, seed=75))]
    gradient = rand(3, seed=76)
    for lib, (x,) in zip((mg, torch), zip(*pairs)):
        y = x.exp()
        lib.autograd.backward([(y * y).sum(), y.sin()], [None, lib.tensor(gradient)])
    assert_same_grads(pairs)


def test_branch_without_grad(torch):
    constant = rand(3, seed=77)
    pairs = [leaf_pair(torch, rand(3, seed=78)), leaf_pair(torch, constant, requires_grad=False)]
    for lib, (x, c) in zip((mg, torch), zip(*pairs)):
        detached = x.detach().exp()
        with lib.no_grad():
            frozen = x * 4
        y = x * c + c.exp() + detached * x + frozen * c
        y.sum().backward()
    assert_same_grads(pairs)


def test_next_functions_without_grad(torch):
    names = []
    for lib in (mg, torch):
        x = lib.tensor(rand(3, seed=79), requires_grad=True)
        c = lib.tensor(rand(3, seed=80))
        y = x * c
        names.append([(node_name(fn) if fn is not None else None) for fn, _ in y.grad_fn.next_functions])
    assert names[0] == names[1]


def test_root_without_grad_raises(torch):
    for lib in (mg, torch):
        c = lib.tensor(rand(3, seed=81))
        with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
            (c * 2).sum().backward()
