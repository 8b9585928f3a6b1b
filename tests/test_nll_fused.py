"""The fused ``_nll_loss`` primitive behind nll_loss and cross_entropy, against PyTorch, on NumPy and OpenCL.

Class-index targets go through one node, NllLossBackward0, unless the class
weight requires grad or label_smoothing > 0. Each test runs the same call in
multigrad (on the device under test) and in PyTorch on the CPU and compares
values, input gradients, double-backward gradients and errors.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import multigrad as mg
import multigrad.nn.functional as F
from multigrad._generated import _ops
from opencl.availability import require_opencl

NAMES = ["nll_loss", "cross_entropy"]
REDUCTIONS = ["mean", "sum", "none"]
DTYPES = ["float32", "float64"]
TOLERANCES = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-10, atol=1e-12)}
# Input shape and target shape: unbatched (C,), batched (N, C) and K-dimensional (N, C, d1, d2).
SHAPES = {"C": ((5,), ()), "NC": ((6, 5), (6,)), "NCdd": ((2, 5, 3, 2), (2, 3, 2))}


def rand(*shape, seed=0, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def targets(shape, classes=5, seed=0):
    return np.random.default_rng(seed).integers(0, classes, size=shape)


@pytest.fixture(params=["numpy", "opencl"])
def device(request):
    if request.param == "opencl":
        require_opencl()
    return request.param


def torch_function(torch, name):
    return getattr(torch.nn.functional, name)


def dtype_name(t):
    return str(t.dtype).split(".")[-1]


def run_both(torch, name, logits, target, device="numpy", dtype="float64", weight=None, seed=1, **kwargs):
    """Call ``name`` in both libraries, backpropagate one random gradient and compare loss and input gradient.

    Return the multigrad and torch inputs and losses, for further checks.
    """
    values = logits.astype(dtype)
    x = mg.tensor(values, device=device, requires_grad=True)
    tx = torch.tensor(values, requires_grad=True)
    mine_kwargs, their_kwargs = dict(kwargs), dict(kwargs)
    if weight is not None:
        mine_kwargs["weight"] = mg.tensor(weight.astype(dtype), device=device)
        their_kwargs["weight"] = torch.tensor(weight.astype(dtype))

    mine = getattr(F, name)(x, mg.tensor(target, device=device), **mine_kwargs)
    theirs = torch_function(torch, name)(tx, torch.tensor(target), **their_kwargs)
    assert tuple(mine.shape) == tuple(theirs.shape)
    assert dtype_name(mine) == dtype_name(theirs)
    assert str(mine.device).split(":")[0] == device
    tolerance = TOLERANCES[dtype]
    np.testing.assert_allclose(mine.detach().cpu().numpy(), theirs.detach().numpy(), err_msg="loss", **tolerance)

    grad_output = np.random.default_rng(seed).standard_normal(tuple(theirs.shape)).astype(dtype)
    mine.backward(mg.tensor(grad_output, device=device))
    theirs.backward(torch.tensor(grad_output))
    assert x.grad is not None
    assert str(x.grad.device) == str(x.device)
    assert dtype_name(x.grad) == dtype_name(tx.grad)
    np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy(), err_msg="input gradient", **tolerance)
    return x, tx, mine, theirs


def torch_error(call):
    """Return the exception that ``call`` raises, and fail the test when it raises none."""
    try:
        call()
    except Exception as error:  # the oracle's exception, whatever its type
        return error
    pytest.fail("PyTorch raised no error")


def assert_same_error(torch_call, mine_call):
    """Check that multigrad raises PyTorch's exception type with PyTorch's message."""
    expected = torch_error(torch_call)
    with pytest.raises(type(expected)) as raised:
        mine_call()
    assert str(raised.value) == str(expected)


# -- values and gradients -------------------------------------------------------------------------


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", NAMES)
def test_loss_and_gradient(torch, device, name, reduction, dtype, shape):
    input_shape, target_shape = SHAPES[shape]
    target = np.array(targets(target_shape))
    run_both(torch, name, rand(*input_shape), target, device, dtype, reduction=reduction)


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", NAMES)
def test_class_weight(torch, device, name, reduction, dtype, shape):
    input_shape, target_shape = SHAPES[shape]
    target = np.array(targets(target_shape, seed=2))
    weight = rand(5, seed=3, low=0.2, high=2.0)
    run_both(torch, name, rand(*input_shape), target, device, dtype, weight=weight, reduction=reduction)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", NAMES)
def test_ignore_index_in_range(torch, device, name, reduction, weighted):
    target = targets((8,), seed=4)
    target[[1, 4, 5]] = 2
    weight = rand(5, seed=5, low=0.2, high=2.0) if weighted else None
    run_both(torch, name, rand(8, 5), target, device, weight=weight, reduction=reduction, ignore_index=2)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", NAMES)
def test_ignore_index_k_dim(torch, device, name, reduction):
    target = targets((2, 3, 2), seed=6)
    target[0, 1, 0] = target[1, 2, 1] = 0
    run_both(torch, name, rand(2, 5, 3, 2), target, device, reduction=reduction, ignore_index=0)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", NAMES)
def test_default_ignore_index(torch, device, name, reduction, weighted):
    target = targets((8,), seed=7)
    target[[0, 3]] = -100
    weight = rand(5, seed=8, low=0.2, high=2.0) if weighted else None
    run_both(torch, name, rand(8, 5), target, device, weight=weight, reduction=reduction)


@pytest.mark.parametrize("ignore_index", [7, -1])
@pytest.mark.parametrize("name", NAMES)
def test_ignore_index_outside_classes(torch, device, name, ignore_index):
    target = targets((6,), seed=9)
    target[2] = ignore_index
    run_both(torch, name, rand(6, 5), target, device, ignore_index=ignore_index)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", NAMES)
def test_unbatched_ignored_target(torch, device, name, reduction):
    run_both(torch, name, rand(5), np.array(3), device, reduction=reduction, ignore_index=3)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", NAMES)
def test_all_targets_ignored(torch, device, name, reduction, weighted):
    # PyTorch's 'mean' is 0 / 0 = nan, and every input gradient is 0.
    target = np.full(4, -100)
    weight = rand(5, seed=10, low=0.2, high=2.0) if weighted else None
    run_both(torch, name, rand(4, 5), target, device, weight=weight, reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", NAMES)
def test_all_targets_ignored_in_range(torch, device, name, reduction):
    run_both(torch, name, rand(4, 5), np.full(4, 1), device, reduction=reduction, ignore_index=1)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_zero_weight_targets(torch, device, reduction):
    # Kept targets of weight 0 make the 'mean' divide by 0. PyTorch still leaves the ignored row's gradient at 0.
    weight = np.array([1.0, 0.0, 1.0, 1.0, 1.0])
    run_both(torch, "nll_loss", rand(3, 5), np.array([1, 1, -100]), device, weight=weight, reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_infinite_input_in_ignored_row(torch, device, reduction):
    # Only the ignored row contains -inf (log 0), and PyTorch never reads that row.
    logits = rand(3, 5)
    logits[1, :] = -np.inf
    run_both(torch, "nll_loss", logits, np.array([2, -100, 4]), device, reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", NAMES)
def test_empty_batch(torch, device, name, reduction):
    run_both(torch, name, rand(0, 5), np.zeros(0, dtype=np.int64), device, reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", NAMES)
def test_uint8_targets(torch, device, name, reduction):
    target = targets((6,), seed=11).astype(np.uint8)
    run_both(torch, name, rand(6, 5), target, device, reduction=reduction)


@pytest.mark.parametrize("name", NAMES)
def test_uint8_target_unbatched(torch, device, name):
    run_both(torch, name, rand(5), np.array(3, dtype=np.uint8), device, weight=rand(5, seed=13, low=0.2, high=2.0))


@pytest.mark.parametrize("name", NAMES)
def test_uint8_targets_k_dim(torch, device, name):
    # PyTorch 2.13 takes uint8 targets only for (C,) and (N, C) inputs.
    logits, target = rand(2, 5, 3, 2), targets((2, 3, 2), seed=12).astype(np.uint8)
    assert_same_error(
        lambda: torch_function(torch, name)(torch.tensor(logits), torch.tensor(target)),
        lambda: getattr(F, name)(mg.tensor(logits, device=device), mg.tensor(target, device=device)),
    )


@pytest.mark.parametrize("name", NAMES)
def test_unbatched_target_of_size_one(torch, name):
    # PyTorch accepts a (1,) target for a (C,) input and returns a 0-d loss. PyTorch 2.13's own
    # backward then fails ("size mismatch (got input: [5], target: [1])"), so the gradient is
    # compared with the one for the 0-d target.
    logits = rand(5)
    x = mg.tensor(logits, requires_grad=True)
    mine = getattr(F, name)(x, mg.tensor(np.array([2])))
    theirs = torch_function(torch, name)(torch.tensor(logits), torch.tensor([2]))
    assert tuple(mine.shape) == ()
    np.testing.assert_allclose(mine.item(), theirs.item(), rtol=1e-12)
    mine.backward()
    reference = mg.tensor(logits, requires_grad=True)
    getattr(F, name)(reference, mg.tensor(2)).backward()
    np.testing.assert_array_equal(x.grad.numpy(), reference.grad.numpy())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", NAMES)
def test_non_contiguous_input_and_target(torch, device, name, reduction):
    # The input is a transposed (6, 5) view and the target takes every other element of 12.
    logits, target = rand(5, 6, seed=14), targets((12,), seed=15)
    x = mg.tensor(logits, device=device, requires_grad=True)
    tx = torch.tensor(logits, requires_grad=True)
    mine = getattr(F, name)(x.t(), mg.tensor(target, device=device)[::2], reduction=reduction)
    theirs = torch_function(torch, name)(tx.t(), torch.tensor(target)[::2], reduction=reduction)
    np.testing.assert_allclose(mine.detach().cpu().numpy(), theirs.detach().numpy(), rtol=1e-10)
    mine.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_linear_classifier(torch, device):
    # cross_entropy after a matmul and a broadcast bias, so the loss gradient flows on through array-path nodes.
    inputs, weights, bias = rand(8, 4, seed=16), rand(4, 5, seed=17), rand(5, seed=18)
    target = targets((8,), seed=19)
    w = mg.tensor(weights, device=device, requires_grad=True)
    b = mg.tensor(bias, device=device, requires_grad=True)
    loss = F.cross_entropy(mg.tensor(inputs, device=device) @ w + b, mg.tensor(target, device=device))
    loss.backward()
    tw = torch.tensor(weights, requires_grad=True)
    tb = torch.tensor(bias, requires_grad=True)
    theirs = torch.nn.functional.cross_entropy(torch.tensor(inputs) @ tw + tb, torch.tensor(target))
    theirs.backward()
    np.testing.assert_allclose(loss.item(), theirs.item(), rtol=1e-10)
    np.testing.assert_allclose(w.grad.cpu().numpy(), tw.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.grad.cpu().numpy(), tb.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_retain_graph_second_backward(torch, device, name):
    mine_input = tuple()
    for lib, make in ((mg, lambda a: mg.tensor(a, device=device)), (torch, torch.tensor)):
        x = make(rand(4, 5)).requires_grad_()
        loss = getattr(lib.nn.functional, name)(x, make(targets((4,))), weight=make(rand(5, seed=20, low=0.5)))
        loss.backward(retain_graph=True)
        loss.backward()
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
            loss.backward()
        mine_input += (x,)
    np.testing.assert_allclose(mine_input[0].grad.cpu().numpy(), mine_input[1].grad.numpy(), rtol=1e-10)


def test_input_without_grad(torch, device):
    for lib, make in ((mg, lambda a: mg.tensor(a, device=device)), (torch, torch.tensor)):
        loss = lib.nn.functional.cross_entropy(make(rand(4, 5)), make(targets((4,))))
        assert not loss.requires_grad
        assert loss.grad_fn is None


# -- graph structure --------------------------------------------------------------------------------


def node_name(node):
    """Return a node's class name without PyTorch's C++ namespace (torch::autograd::AccumulateGrad)."""
    return node.name().split("::")[-1]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_grad_fn_names(torch, device, name, weighted):
    names = []
    for lib, make in ((mg, lambda a: mg.tensor(a, device=device)), (torch, torch.tensor)):
        x = make(rand(4, 5)).requires_grad_()
        weight = make(rand(5, seed=21, low=0.5)) if weighted else None
        loss = getattr(lib.nn.functional, name)(x, make(targets((4,))), weight=weight)
        names.append((node_name(loss.grad_fn), node_name(loss.grad_fn.next_functions[0][0])))
    assert names[0] == names[1]
    assert names[0][0] == "NllLossBackward0"


def test_cross_entropy_next_function(device):
    x = mg.tensor(rand(4, 5), device=device, requires_grad=True)
    loss = F.cross_entropy(x, mg.tensor(targets((4,)), device=device))
    assert loss.grad_fn.name() == "NllLossBackward0"
    assert loss.grad_fn.next_functions[0][0].name() == "LogSoftmaxBackward0"
    assert loss.grad_fn.next_functions[0][0].next_functions[0][0].name() == "AccumulateGrad"


def test_weight_with_grad_keeps_composite():
    weight = mg.tensor(rand(5, low=0.5), requires_grad=True)
    loss = F.nll_loss(mg.tensor(rand(4, 5), requires_grad=True), mg.tensor(targets((4,))), weight=weight)
    assert loss.grad_fn.name() != "NllLossBackward0"


def test_label_smoothing_keeps_composite():
    loss = F.cross_entropy(mg.tensor(rand(4, 5), requires_grad=True), mg.tensor(targets((4,))), label_smoothing=0.1)
    assert loss.grad_fn.name() != "NllLossBackward0"


# -- double backward -----------------------------------------------------------------------------


def double_backward(lib, name, x, target, grad_output, weights, **kwargs):
    """Return d/d(x, grad_output) of sum(weights * d loss / dx), the first derivative taken with create_graph."""
    loss = getattr(lib.nn.functional, name)(x, target, **kwargs)
    (first,) = lib.autograd.grad(loss, x, grad_output, create_graph=True)
    return first, lib.autograd.grad((first * weights).sum(), [x, grad_output], allow_unused=True)


@pytest.mark.parametrize("shape", ["NC", "NCdd"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", NAMES)
def test_double_backward(torch, device, name, reduction, weighted, shape):
    input_shape, target_shape = SHAPES[shape]
    target = np.array(targets(target_shape, seed=22))
    target.reshape(-1)[1] = -100
    logits = rand(*input_shape, seed=23)
    loss_shape = target_shape if reduction == "none" else ()
    grad_output = np.random.default_rng(24).standard_normal(loss_shape)
    weights = rand(*input_shape, seed=25)
    class_weight = rand(5, seed=26, low=0.5) if weighted else None

    results = []
    for lib, make in ((mg, lambda a: mg.tensor(a, device=device)), (torch, torch.tensor)):
        kwargs = {"reduction": reduction}
        if weighted:
            kwargs["weight"] = make(class_weight)
        x = make(logits).requires_grad_()
        v = make(grad_output).requires_grad_()
        results.append(double_backward(lib, name, x, make(target), v, make(weights), **kwargs))

    (mine_first, (mine_x, mine_v)), (their_first, (their_x, their_v)) = results
    np.testing.assert_allclose(mine_first.detach().cpu().numpy(), their_first.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert mine_v is not None
    np.testing.assert_allclose(mine_v.cpu().numpy(), their_v.numpy(), rtol=1e-9, atol=1e-12,
                               err_msg="gradient of grad_output")
    if mine_x is None:
        # nll_loss is linear in its input, so multigrad may return None where PyTorch returns zeros.
        assert not their_x.numpy().any()
    else:
        np.testing.assert_allclose(mine_x.cpu().numpy(), their_x.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg="gradient of the input")


def test_double_backward_node_name(torch, device):
    names = []
    for lib, make in ((mg, lambda a: mg.tensor(a, device=device)), (torch, torch.tensor)):
        x = make(rand(4, 5)).requires_grad_()
        v = make(np.array(1.0)).requires_grad_()
        loss = lib.nn.functional.nll_loss(x, make(targets((4,))))
        (first,) = lib.autograd.grad(loss, x, v, create_graph=True)
        names.append(node_name(first.grad_fn))
    assert names[0] == names[1]


def test_nll_first_gradient_requires_grad(torch):
    # Under create_graph PyTorch's gradient of nll_loss requires grad even with a constant grad_output.
    flags = []
    for lib in (mg, torch):
        x = lib.tensor(rand(4, 5), requires_grad=True)
        (first,) = lib.autograd.grad(lib.nn.functional.nll_loss(x, lib.tensor(targets((4,)))), x, create_graph=True)
        flags.append(first.requires_grad)
    assert flags[0] == flags[1]


# -- errors ---------------------------------------------------------------------------------------


def count_nll_nodes(monkeypatch):
    """Make every new NllLossBackward0 append to the returned list."""
    created = []

    class CountedNllLossBackward0(_ops.NllLossBackward0):
        __slots__ = ()

        def __init__(self):
            created.append(self)

    monkeypatch.setattr(_ops, "NllLossBackward0", CountedNllLossBackward0)
    return created


def test_node_counter_sees_valid_call(monkeypatch):
    # The check that a bad target creates no node relies on this counter.
    created = count_nll_nodes(monkeypatch)
    F.cross_entropy(mg.tensor(rand(3, 5), requires_grad=True), mg.tensor([1, 2, 3]))
    assert len(created) == 1


@pytest.mark.parametrize("bad, dtype", [(7, "int64"), (5, "int64"), (-1, "int64"), (-100, "int64"),
                                        (255, "uint8")])
@pytest.mark.parametrize("name", NAMES)
def test_out_of_range_target(torch, device, monkeypatch, name, bad, dtype):
    target = np.array([1, bad, 2]).astype(dtype)
    ignore_index = 0  # so that -100 is a bad target too
    logits = rand(3, 5)
    expected = torch_error(lambda: torch_function(torch, name)(
        torch.tensor(logits, requires_grad=True), torch.tensor(target), ignore_index=ignore_index))

    created = count_nll_nodes(monkeypatch)
    x = mg.tensor(logits, device=device, requires_grad=True)
    with pytest.raises(type(expected), match=f"^{re.escape(str(expected))}$"):
        getattr(F, name)(x, mg.tensor(target, device=device), ignore_index=ignore_index)
    assert created == []
    assert x._version == 0
    assert x.grad is None
    np.testing.assert_array_equal(x.detach().cpu().numpy(), logits)


@pytest.mark.parametrize("name", NAMES)
def test_out_of_range_target_unbatched(torch, device, name):
    expected = torch_error(lambda: torch_function(torch, name)(torch.tensor(rand(5)), torch.tensor(5)))
    with pytest.raises(type(expected), match=f"^{re.escape(str(expected))}$"):
        getattr(F, name)(mg.tensor(rand(5), device=device), mg.tensor(5, device=device))


@pytest.mark.parametrize("target_dtype", ["int32", "int16", "int8", "float32", "float64", "bool"])
@pytest.mark.parametrize("name", NAMES)
def test_wrong_target_dtype(torch, device, name, target_dtype):
    target = np.array([1, 0, 1]).astype(target_dtype)
    logits = rand(3, 5)
    assert_same_error(
        lambda: torch_function(torch, name)(torch.tensor(logits), torch.tensor(target)),
        lambda: getattr(F, name)(mg.tensor(logits, device=device), mg.tensor(target, device=device)),
    )


@pytest.mark.parametrize("input_shape, target", [
    ((3, 5), np.array([1, 2, 3, 4])),
    ((3, 5), np.array([[1, 2], [0, 1], [3, 3]])),
    ((3, 5), np.array(1)),
    ((3, 5, 4), np.ones((3, 3), dtype=np.int64)),
    ((3, 5, 4), np.ones((3, 4, 1), dtype=np.int64)),
    ((5,), np.array([1, 2])),
], ids=["batch", "two_dim_target", "zero_dim_target", "k_dim_size", "k_dim_rank", "unbatched_two"])
@pytest.mark.parametrize("name", NAMES)
def test_wrong_target_shape(torch, name, input_shape, target):
    logits = rand(*input_shape)
    assert_same_error(
        lambda: torch_function(torch, name)(torch.tensor(logits), torch.tensor(target)),
        lambda: getattr(F, name)(mg.tensor(logits), mg.tensor(target)),
    )


def test_zero_dim_input(torch):
    # Only nll_loss, because PyTorch's cross_entropy reads a 0-d input and 0-d target as class probabilities.
    assert_same_error(
        lambda: torch.nn.functional.nll_loss(torch.tensor(1.0), torch.tensor(1)),
        lambda: F.nll_loss(mg.tensor(1.0), mg.tensor(1)),
    )


@pytest.mark.parametrize("name", NAMES)
def test_wrong_weight_size(torch, device, name):
    logits, target = rand(3, 5), np.array([1, 2, 3])
    assert_same_error(
        lambda: torch_function(torch, name)(torch.tensor(logits), torch.tensor(target),
                                            weight=torch.ones(4, dtype=torch.float64)),
        lambda: getattr(F, name)(mg.tensor(logits, device=device), mg.tensor(target, device=device),
                                 weight=mg.ones(4, dtype=mg.float64, device=device)),
    )
