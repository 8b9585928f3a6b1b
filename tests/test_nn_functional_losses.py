"""multigrad.nn.functional losses against torch.nn.functional: values, gradients, reductions and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import multigrad as mg
import multigrad.nn.functional as F
from nn_functional_helpers import compare, compare_double_backward

DTYPES = ["float32", "float64"]
REDUCTIONS = ["mean", "sum", "none"]


def rand(*shape, low=-2.0, high=2.0, seed=0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


@pytest.fixture
def TF(torch):
    return torch.nn.functional


def call_both(torch, TF, name, **kwargs):
    """Return multigrad's and torch's ``name`` with ``kwargs`` bound; call-time keywords are added to them."""
    return (
        lambda *a, **more: getattr(F, name)(*a, **kwargs, **more),
        lambda *a, **more: getattr(TF, name)(*a, **kwargs, **more),
    )


# -- regression losses ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, kwargs", [
    ("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}),
    ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {}), ("huber_loss", {"delta": 0.5}),
])
def test_regression_loss(torch, TF, dtype, reduction, name, kwargs):
    ours, theirs = call_both(torch, TF, name, reduction=reduction, **kwargs)
    compare(torch, ours, theirs, [rand(3, 4), rand(3, 4, seed=1)], dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_regression_loss_weight(torch, TF, reduction, name):
    ours, theirs = call_both(torch, TF, name, reduction=reduction)
    compare(torch, lambda a, b, w: ours(a, b, weight=w), lambda a, b, w: theirs(a, b, weight=w),
            [rand(3, 4), rand(3, 4, seed=1), rand(3, 4, low=0.5, seed=2)])


def test_regression_loss_broadcast_warns(torch, TF):
    with pytest.warns(UserWarning, match="Using a target size"):
        ours = F.mse_loss(mg.tensor(rand(3, 4)), mg.tensor(rand(4, seed=1)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = TF.mse_loss(torch.tensor(rand(3, 4)), torch.tensor(rand(4, seed=1)))
    np.testing.assert_allclose(ours.numpy(), expected.numpy())


def test_legacy_size_average_and_reduce(torch, TF):
    a, b = rand(3, 4), rand(3, 4, seed=1)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        ours = F.mse_loss(mg.tensor(a), mg.tensor(b), size_average=False)
    np.testing.assert_allclose(ours.numpy(), ((a - b) ** 2).sum())
    with pytest.warns(UserWarning):
        assert F.l1_loss(mg.tensor(a), mg.tensor(b), reduce=False).shape == (3, 4)


@pytest.mark.parametrize("name", [
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "kl_div",
])
def test_invalid_reduction(name):
    x = mg.tensor(rand(3, low=0.1, high=0.9))
    with pytest.raises(ValueError, match="^foo is not a valid value for reduction$"):
        getattr(F, name)(x, x, reduction="foo")


def test_invalid_reduction_with_weight():
    x = mg.tensor(rand(3))
    with pytest.raises(ValueError, match="Invalid reduction mode: foo. Expected one of 'none', 'mean', 'sum'."):
        F.mse_loss(x, x, reduction="foo", weight=x)
    with pytest.raises(ValueError, match="Weights and input must have the same size."):
        F.mse_loss(x, x, weight=mg.ones(2))


def test_regression_loss_parameter_errors():
    x = mg.ones(3)
    with pytest.raises(RuntimeError, match="smooth_l1_loss does not support negative values for beta."):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(RuntimeError, match="huber_loss does not support non-positive values for delta."):
        F.huber_loss(x, x, delta=0.0)


# -- nll_loss and cross_entropy -------------------------------------------------------------------


def targets(*shape, classes=5, seed=0):
    return np.random.default_rng(seed).integers(0, classes, size=shape)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_class_index_losses(torch, TF, dtype, reduction, name):
    ours, theirs = call_both(torch, TF, name, reduction=reduction)
    compare(torch, ours, theirs, [rand(6, 5), targets(6)], dtype)
    # K-dim input (N, C, d1, d2) and unbatched (C,) input.
    compare(torch, ours, theirs, [rand(2, 5, 3, 2), targets(2, 3, 2)], dtype)
    compare(torch, ours, theirs, [rand(5), np.array(3)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_class_losses_weight_and_ignore_index(torch, TF, dtype, reduction, name):
    target = targets(8)
    target[[1, 4]] = 2
    ours, theirs = call_both(torch, TF, name, reduction=reduction, ignore_index=2)
    compare(torch, lambda x, t, w: ours(x, t, weight=w), lambda x, t, w: theirs(x, t, weight=w),
            [rand(8, 5), target, rand(5, low=0.5, seed=3)], dtype, constant=[2])
    target[:] = -100
    target[0] = 1
    ours, theirs = call_both(torch, TF, name, reduction=reduction)
    compare(torch, ours, theirs, [rand(8, 5), target], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_label_smoothing(torch, TF, dtype, reduction, weighted):
    target = targets(2, 3)
    target[0, 1] = -100
    ours, theirs = call_both(torch, TF, "cross_entropy", reduction=reduction, label_smoothing=0.2)
    args = [rand(2, 5, 3), target] + ([rand(5, low=0.5, seed=3)] if weighted else [])
    compare(torch, ours, theirs, args, dtype, constant=[2])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kwargs", [{}, {"label_smoothing": 0.3}])
def test_cross_entropy_probabilities(torch, TF, dtype, reduction, kwargs):
    probabilities = rand(4, 5, 2, low=0.0, high=1.0, seed=1)
    probabilities /= probabilities.sum(1, keepdims=True)
    ours, theirs = call_both(torch, TF, "cross_entropy", reduction=reduction, **kwargs)
    compare(torch, ours, theirs, [rand(4, 5, 2), probabilities], dtype)
    compare(torch, lambda x, t, w: ours(x, t, w), lambda x, t, w: theirs(x, t, w),
            [rand(4, 5, 2), probabilities, rand(5, low=0.5, seed=3)], dtype, constant=[2])


def test_cross_entropy_large_logits_stay_finite(torch, TF):
    compare(torch, F.cross_entropy, TF.cross_entropy, [np.array([[1000.0, -1000.0, 0.0]]), np.array([1])])


def test_cross_entropy_double_backward(torch, TF):
    compare_double_backward(torch, F.cross_entropy, TF.cross_entropy, [rand(4, 5), targets(4)])
    ours, theirs = call_both(torch, TF, "cross_entropy", label_smoothing=0.1)
    compare_double_backward(torch, ours, theirs, [rand(4, 5), targets(4)])


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.nll_loss(mg.ones(3, 5), mg.tensor([1, 2, 7])), IndexError, "Target 7 is out of bounds."),
    (lambda: F.nll_loss(mg.ones(3, 5), mg.tensor([1, 2, 3, 4])), ValueError,
     r"Expected input batch_size \(3\) to match target batch_size \(4\)."),
    (lambda: F.nll_loss(mg.ones(3, 5, 4), mg.ones(3, 3).long()), RuntimeError,
     r"Expected target size \[3, 4\], got \[3, 3\]"),
    (lambda: F.nll_loss(mg.ones(3, 5), mg.ones(3)), RuntimeError,
     "expected target dtype to be Long or Byte, but got Float"),
    (lambda: F.nll_loss(mg.ones(3, 5), mg.tensor([1, 2, 3]), weight=mg.ones(4)), RuntimeError,
     "weight tensor should be defined either for all 5 classes or no classes"),
    (lambda: F.nll_loss(mg.tensor(1.0), mg.tensor(1)), ValueError, r"Expected 1 or more dimensions \(got 0\)"),
    (lambda: F.cross_entropy(mg.ones(3, 5), mg.ones(3, 5), ignore_index=1), RuntimeError,
     "ignore_index is not supported for floating point target"),
    (lambda: F.cross_entropy(mg.ones(3, 5), mg.tensor([1, 2, 3]), label_smoothing=1.5), RuntimeError,
     "label_smoothing must be between 0.0 and 1.0. Got: 1.5"),
    (lambda: F.cross_entropy(mg.ones(3, 5), mg.tensor([1, 2, 3]), reduction="avg"), ValueError,
     "avg is not a valid value for reduction"),
    (lambda: F.nll_loss(mg.ones(3, 5), mg.tensor([1, 2, 3]), reduction="avg"), ValueError,
     "avg is not a valid value for reduction"),
])
def test_class_loss_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- binary cross entropy ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(torch, TF, dtype, reduction):
    ours, theirs = call_both(torch, TF, "binary_cross_entropy", reduction=reduction)
    probabilities = rand(3, 4, low=0.05, high=0.95)
    compare(torch, ours, theirs, [probabilities, rand(3, 4, low=0, high=1, seed=1)], dtype)
    compare(torch, lambda x, t, w: ours(x, t, w), lambda x, t, w: theirs(x, t, w),
            [probabilities, rand(3, 4, low=0, high=1, seed=1), rand(4, low=0.5, seed=2)], dtype, constant=[2])


def test_binary_cross_entropy_clamps_log(torch, TF):
    x = np.array([0.0, 1.0, 0.5, 1e-50])
    t = np.array([1.0, 0.0, 1.0, 1.0])
    ours = F.binary_cross_entropy(mg.tensor(x), mg.tensor(t), reduction="none")
    expected = TF.binary_cross_entropy(torch.tensor(x), torch.tensor(t), reduction="none")
    np.testing.assert_allclose(ours.numpy(), expected.numpy())


def test_binary_cross_entropy_double_backward(torch, TF):
    compare_double_backward(torch, F.binary_cross_entropy, TF.binary_cross_entropy,
                            [rand(3, 4, low=0.1, high=0.9), rand(3, 4, low=0, high=1, seed=1)])


def test_binary_cross_entropy_errors():
    with pytest.raises(ValueError, match="Using a target size .* is deprecated"):
        F.binary_cross_entropy(mg.ones(3, 1) / 2, mg.ones(3))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(mg.tensor([1.5]), mg.tensor([1.0]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(torch, TF, dtype, reduction):
    ours, theirs = call_both(torch, TF, "binary_cross_entropy_with_logits", reduction=reduction)
    logits = rand(3, 4, low=-5, high=5)
    logits[0, :2] = [0.0, 80.0]
    labels = rand(3, 4, low=0, high=1, seed=1)
    compare(torch, ours, theirs, [logits, labels], dtype)
    compare(torch, lambda x, t, w, pw: ours(x, t, w, pos_weight=pw),
            lambda x, t, w, pw: theirs(x, t, w, pos_weight=pw),
            [logits, labels, rand(3, 4, low=0.5, seed=2), rand(4, low=0.5, high=3, seed=3)], dtype, constant=[2, 3])


def test_binary_cross_entropy_with_logits_errors():
    with pytest.raises(ValueError, match=r"Target size \(.*\) must be the same as input size"):
        F.binary_cross_entropy_with_logits(mg.ones(3, 1), mg.ones(3))


# -- kl_div --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["sum", "none", "batchmean", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(torch, TF, dtype, reduction, log_target):
    target = rand(3, 4, low=0.1, high=1.0, seed=1)
    if log_target:
        target = np.log(target)
    ours, theirs = call_both(torch, TF, "kl_div", reduction=reduction, log_target=log_target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(torch, ours, theirs, [rand(3, 4), target], dtype)
        # A zero target adds 0; PyTorch's target gradient there is nan, so only the input's is compared.
        target[0, 0] = 0.0
        compare(torch, ours, theirs, [rand(3, 4), target], dtype, constant=[1])


def test_kl_div_mean_warns():
    x = mg.ones(2, 3)
    with pytest.warns(UserWarning, match="reduction: 'mean' divides the total loss"):
        F.kl_div(x, x)
