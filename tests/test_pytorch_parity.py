"""Behaviours where an earlier multigrad differed from PyTorch, each checked against PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import multigrad as mg


def both(torch):
    return (mg, torch)


def test_where_method_binds_self_as_value(torch):
    results = []
    for lib in both(torch):
        c = lib.tensor([True, False])
        results.append(lib.tensor([5.0, 6.0]).where(c, lib.tensor([-1.0, -2.0])).tolist())
    assert results[0] == results[1] == [5.0, -2.0]


@pytest.mark.parametrize("value, other", [([1, 2], 0.5), ([1, 2], [0.5, 0.5]), ([200, 3], [-7, 1])])
@pytest.mark.parametrize("dtype", ["int64", "uint8", "float32"])
def test_where_promotes_like_torch(torch, value, other, dtype):
    outputs = []
    for lib in both(torch):
        c = lib.tensor([True, False])
        x = lib.tensor(value, dtype=getattr(lib, dtype))
        y = other if isinstance(other, float) else lib.tensor(other)
        out = lib.where(c, x, y)
        outputs.append((str(out.dtype).split(".")[-1], out.tolist()))
    assert outputs[0] == outputs[1]


def test_where_rejects_non_bool_condition(torch):
    for lib in both(torch):
        with pytest.raises(RuntimeError, match="where expected condition to be a boolean tensor"):
            lib.where(lib.ones(2), lib.ones(2), lib.zeros(2))


@pytest.mark.parametrize("expression", [
    lambda lib, a: a % 0,
    lambda lib, a: lib.fmod(a, 0),
    lambda lib, a: a.div(0, rounding_mode="floor"),
    lambda lib, a: a.div(lib.tensor([0, 1]), rounding_mode="trunc"),
    lambda lib, a: a // 0,
])
def test_integer_division_by_zero_raises(torch, expression):
    for lib in both(torch):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            expression(lib, lib.tensor([5, -7]))


def test_floor_divide_and_exact_integer_trunc(torch):
    results = []
    for lib in both(torch):
        a = lib.tensor([5, -7, 9223372036854775807])
        results.append([
            (a // 2).tolist(),
            (lib.tensor([5.0, -7.0]) // 2).tolist(),
            a.div(3, rounding_mode="trunc").tolist(),
            lib.floor_divide(a, -2).tolist(),
        ])
    assert results[0] == results[1]


def test_retain_grad_follows_inplace_change(torch):
    grads = []
    for lib in both(torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        y.retain_grad()
        y.mul_(3)
        (y * y).sum().backward()
        grads.append(y.grad.tolist())
    assert grads[0] == grads[1] == [6.0, 12.0]


def test_root_gradient_takes_output_dtype(torch):
    dtypes = []
    for lib in both(torch):
        x = lib.ones(2, requires_grad=True)
        (x * 2).backward(lib.ones(2, dtype=lib.float64))
        dtypes.append(str(x.grad.dtype).split(".")[-1])
    assert dtypes == ["float32", "float32"]


def test_matmul_rejects_mixed_dtypes(torch):
    for lib in both(torch):
        with pytest.raises(RuntimeError, match="same dtype"):
            lib.ones(2, 2) @ lib.ones(2, 2, dtype=lib.float64)


def test_hessian_of_one_tensor_is_a_tensor(torch):
    ours = mg.autograd.functional.hessian(lambda t: (t ** 3).sum(), mg.tensor([1.0, 2.0]))
    theirs = torch.autograd.functional.hessian(lambda t: (t ** 3).sum(), torch.tensor([1.0, 2.0]))
    assert isinstance(ours, mg.Tensor)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())


def test_anomaly_nan_error_carries_forward_trace():
    x = mg.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mg.autograd.detect_anomaly():
            y = x / x  # the forward line the note must name
            with pytest.raises(RuntimeError, match="returned nan values in its 1th output") as info:
                y.sum().backward()
    notes = "".join(getattr(info.value, "__notes__", []))
    assert "y = x / x  # the forward line the note must name" in notes


def test_cpu_names_the_numpy_device():
    assert mg.ones(2).to("cpu").device == mg.device("numpy")
    assert mg.zeros(2, device="cpu").device.type == "numpy"


def test_writing_into_expanded_view_raises(torch):
    for lib in both(torch):
        x = lib.ones(1, 3)
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor refers to a single memory location"):
            x.expand(2, 3).add_(1)
        assert x.tolist() == [[1.0, 1.0, 1.0]]


def test_bool_negation_and_subtraction_raise(torch):
    for lib in both(torch):
        with pytest.raises(RuntimeError, match=r"Negation, the `-` operator, on a bool tensor is not supported"):
            -lib.tensor([True])
        with pytest.raises(RuntimeError, match=r"Subtraction, the `-` operator, with two bool tensors is not supported"):
            lib.tensor([True]) - lib.tensor([True])


def test_tensor_conveniences_match_torch(torch):
    results = []
    for lib in both(torch):
        a = lib.arange(6.0).reshape(2, 3)
        results.append((
            a.T.tolist(), a.mT.tolist(), a.t().is_contiguous(), a.is_contiguous(),
            a.new_zeros(2).tolist(), a.new_ones((1, 2)).tolist(), a.new_full((2,), 7.0).tolist(),
            a.new_tensor([1, 2]).tolist(), str(a.new_zeros(1).dtype).split(".")[-1],
        ))
    assert results[0] == results[1]


def test_isclose_allclose_equal_match_torch(torch):
    results = []
    for lib in both(torch):
        a = lib.tensor([1.0, 2.0, float("inf"), float("nan")])
        b = lib.tensor([1.0 + 1e-9, 2.1, float("inf"), float("nan")])
        results.append((
            lib.isclose(a, b).tolist(), lib.isclose(a, b, equal_nan=True).tolist(),
            lib.allclose(a[:1], b[:1]), lib.allclose(a, b), lib.equal(a[:2], a[:2]), lib.equal(a[:2], b[:2]),
        ))
    assert results[0] == results[1]


def test_clip_grad_norm_and_value_match_torch(torch):
    results = []
    for lib in both(torch):
        params = [lib.tensor([3.0, 4.0], requires_grad=True), lib.tensor([12.0], requires_grad=True)]
        params[0].grad = lib.tensor([3.0, 4.0])
        params[1].grad = lib.tensor([12.0])
        total = lib.nn.utils.clip_grad_norm_(params, 6.5)
        scaled = [p.grad.tolist() for p in params]
        lib.nn.utils.clip_grad_value_(params, 0.5)
        results.append((round(total.item(), 5), scaled, [p.grad.tolist() for p in params], params[0].tolist()))
    np.testing.assert_allclose(results[0][1][0], results[1][1][0], rtol=1e-6)
    assert results[0][0] == results[1][0]
    assert results[0][2] == results[1][2]
    assert results[0][3] == results[1][3] == [3.0, 4.0]


def test_random_split_and_inference_mode():
    dataset = mg.utils.data.TensorDataset(mg.arange(10))
    first, second = mg.utils.data.random_split(dataset, [0.7, 0.3])
    assert (len(first), len(second)) == (7, 3)
    seen = sorted(int(first[i][0]) for i in range(7)) + sorted(int(second[i][0]) for i in range(3))
    assert sorted(seen) == list(range(10))
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset"):
        mg.utils.data.random_split(dataset, [3, 3])
    x = mg.ones(1, requires_grad=True)
    with mg.inference_mode():
        assert not (x * 2).requires_grad
    with pytest.raises(NotImplementedError, match="num_workers=0"):
        mg.utils.data.DataLoader(dataset, num_workers=2)


def test_load_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError):
        mg.load(tmp_path / "missing.npz")
    text = tmp_path / "plain.txt"
    text.write_text("not an archive")
    with pytest.raises(RuntimeError, match="not a file written by multigrad.save") as info:
        mg.load(text)
    assert "allow_pickle" not in str(info.value)
    with pytest.raises(TypeError, match=r"save its state_dict\(\) instead"):
        mg.save(mg.nn.Linear(2, 2), tmp_path / "model.npz")


# -- findings of a code review, each checked against PyTorch ----------------------------------


def test_stale_views_get_fresh_history(torch):
    results = []
    for lib in both(torch):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = a * 1
        first, second = b[0:2], b[0:2]
        first.mul_(3)
        second.sum().backward()
        sibling = a.grad.tolist()

        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = a * 1
        view = b[1:]
        b.mul_(2)
        view.sum().backward()
        results.append((sibling, a.grad.tolist()))
    assert results[0] == results[1] == ([3.0, 3.0, 0.0], [0.0, 2.0, 2.0])


def test_no_grad_view_of_changed_base_raises(torch):
    for lib in both(torch):
        b = lib.tensor([1.0, 2.0, 3.0], requires_grad=True) * 1
        with lib.no_grad():
            view = b[0:2]
        b.mul_(2)
        with pytest.raises(RuntimeError, match="A view was created in no_grad mode"):
            view.grad_fn


def test_inplace_comparison_gives_zero_gradient(torch):
    results = []
    for lib in both(torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.gt_(3)
        (y * 2).sum().backward()
        results.append((y.tolist(), y.grad_fn.name(), x.grad.tolist()))
    assert results[0] == results[1]


def test_create_graph_grads_are_not_shared(torch):
    for lib in both(torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        z = lib.tensor([3.0, 4.0], requires_grad=True)
        (x + z).sum().backward(create_graph=True)
        assert x.grad is not z.grad
        with lib.no_grad():
            x.grad.zero_()
        assert z.grad.tolist() == [1.0, 1.0]


def test_leaf_hooks_run_under_autograd_grad(torch):
    results = []
    for lib in both(torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: g * 10)
        (g,) = lib.autograd.grad((x * x).sum(), x)
        results.append(g.tolist())
    assert results[0] == results[1] == [20.0, 40.0]


def test_leaf_hook_result_is_checked():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: mg.ones(3))
    with pytest.raises(RuntimeError, match=r"returned a gradient of shape \[3\], expected \[2\]"):
        (x * 1).sum().backward()
    y = mg.tensor([1.0, 2.0], requires_grad=True)
    y.register_hook(lambda g: g.double())
    with pytest.raises(RuntimeError, match="has changed the type of value"):
        (y * 1).sum().backward()


def test_backward_inputs_with_retain_grad_and_gradient(torch):
    results = []
    for lib in both(torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        v = lib.ones(2)
        y.backward(v, inputs=[y])
        with lib.no_grad():
            y.grad.zero_()
        results.append((v.tolist(), x.grad))
    assert results[0][0] == results[1][0] == [1.0, 1.0]
    assert results[0][1] is None
    assert results[1][1] is None


def test_backends_load_once_across_threads():
    import subprocess
    import sys

    code = (
        "import threading, multigrad as mg\n"
        "errors = []\n"
        "barrier = threading.Barrier(4)\n"
        "def work():\n"
        "    barrier.wait()\n"
        "    try:\n"
        "        mg.ones(2) + 1\n"
        "    except Exception as error:\n"
        "        errors.append(error)\n"
        "threads = [threading.Thread(target=work) for _ in range(4)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "print(len(errors))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


def test_deepcopy_of_leaf_and_module():
    import copy

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = copy.deepcopy(x)
    assert y.requires_grad
    assert y.tolist() == [1.0, 2.0]
    y.data.fill_(0)
    assert x.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(x * 2)
    model = mg.nn.Sequential(mg.nn.Linear(2, 2), mg.nn.BatchNorm1d(2))
    clone = copy.deepcopy(model)
    assert clone[0].weight is not model[0].weight
    assert clone[1].running_mean.tolist() == [0.0, 0.0]
