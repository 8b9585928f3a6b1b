"""multigrad.nn.functional against torch.nn.functional: softmax, activations, linear, dropout, norms, padding."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import multigrad as mg
import multigrad.nn.functional as F
from nn_functional_helpers import compare, compare_double_backward

DTYPES = ["float32", "float64"]


def rand(*shape, low=-2.0, high=2.0, seed=0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


@pytest.fixture
def TF(torch):
    return torch.nn.functional


# -- softmax family ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax(torch, TF, dtype, dim):
    x = rand(3, 4, 5)
    compare(torch, lambda t: F.softmax(t, dim), lambda t: TF.softmax(t, dim), [x], dtype)
    compare(torch, lambda t: F.log_softmax(t, dim), lambda t: TF.log_softmax(t, dim), [x], dtype)
    compare(torch, lambda t: F.softmin(t, dim), lambda t: TF.softmin(t, dim), [x], dtype)


def test_log_softmax_large_values_stay_finite(torch, TF):
    x = np.array([[1000.0, 0.0, -1000.0]])
    compare(torch, lambda t: F.log_softmax(t, 1), lambda t: TF.log_softmax(t, 1), [x])


def test_softmax_dtype_argument(torch, TF):
    x = rand(3, 4).astype(np.float32)
    ours = F.softmax(mg.tensor(x), 1, dtype=mg.float64)
    assert ours.dtype == mg.float64
    np.testing.assert_allclose(ours.numpy(), TF.softmax(torch.tensor(x), 1, dtype=torch.float64).numpy())


def test_softmax_implicit_dim_warns(torch, TF):
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        ours = F.softmax(mg.tensor(rand(3, 4)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = TF.softmax(torch.tensor(rand(3, 4)))
    np.testing.assert_allclose(ours.numpy(), expected.numpy())


def test_softmax_methods_and_functions():
    x = mg.tensor(rand(2, 3))
    np.testing.assert_allclose(x.softmax(1).numpy(), mg.softmax(x, 1).numpy())
    np.testing.assert_allclose(x.log_softmax(-1).numpy(), mg.log_softmax(x, -1).numpy())
    assert mg.softmax(mg.tensor(rand(2, 3), requires_grad=True), 1).grad_fn.name() == "SoftmaxBackward0"


def test_log_softmax_double_backward(torch, TF):
    compare_double_backward(torch, lambda t: F.log_softmax(t, 1), lambda t: TF.log_softmax(t, 1), [rand(3, 4)])
    compare_double_backward(torch, lambda t: F.softmax(t, 0), lambda t: TF.softmax(t, 0), [rand(3, 4)])


# -- activations and linear --------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid", "logsigmoid"])
def test_activation_matches(torch, TF, dtype, name):
    x = rand(3, 4, low=-30, high=30)
    x[0, 0] = 0.0
    compare(torch, getattr(F, name), getattr(TF, name), [x], dtype)


@pytest.mark.parametrize("name, kwargs", [
    ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("elu", {"alpha": 0.5}),
    ("leaky_relu", {"negative_slope": 0.2}), ("softplus", {"beta": 2.0, "threshold": 5.0}),
])
def test_registry_activation_reexports(torch, TF, name, kwargs):
    x = rand(3, 4, low=-3, high=3)
    compare(torch, lambda t: getattr(F, name)(t, **kwargs), lambda t: getattr(TF, name)(t, **kwargs), [x])


def test_relu_inplace(torch):
    x = mg.tensor(rand(3, 4))
    out = F.relu(x, inplace=True)
    assert out is x
    assert (x.numpy() >= 0).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", [((4, 3), (5, 3), (5,)), ((2, 4, 3), (5, 3), None), ((3,), (5, 3), (5,))])
def test_linear(torch, TF, dtype, shapes):
    x_shape, w_shape, b_shape = shapes
    args = [rand(*x_shape), rand(*w_shape, seed=1)] + ([rand(*b_shape, seed=2)] if b_shape else [])
    compare(torch, F.linear, TF.linear, args, dtype)


# -- dropout -------------------------------------------------------------------------------


def test_dropout_eval_returns_input():
    x = mg.tensor(rand(3, 4))
    assert F.dropout(x, 0.5, training=False) is x


def test_dropout_is_seeded_by_manual_seed():
    x = mg.ones(50, 40)
    mg.manual_seed(7)
    first = F.dropout(x, 0.3).numpy()
    mg.manual_seed(7)
    second = F.dropout(x, 0.3).numpy()
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, F.dropout(x, 0.3).numpy())


def test_dropout_statistics():
    mg.manual_seed(0)
    p = 0.3
    out = F.dropout(mg.ones(200, 500), p).numpy()
    kept = out != 0
    assert abs(1 - kept.mean() - p) < 0.01
    np.testing.assert_allclose(out[kept], 1 / (1 - p), rtol=1e-6)


def test_dropout_gradient_uses_mask():
    mg.manual_seed(3)
    x = mg.tensor(rand(20, 30), requires_grad=True)
    out = F.dropout(x, 0.5)
    out.sum().backward()
    mask = out.detach().numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), mask * 2.0)


def test_dropout_edge_probabilities():
    x = mg.tensor(rand(3, 4), requires_grad=True)
    np.testing.assert_array_equal(F.dropout(x, 1.0).detach().numpy(), np.zeros((3, 4)))
    np.testing.assert_array_equal(F.dropout(x, 0.0).detach().numpy(), x.detach().numpy())


def test_dropout_inplace():
    x = mg.ones(10, 10)
    assert F.dropout(x, 0.5, inplace=True) is x
    assert set(np.unique(x.numpy())) <= {0.0, 2.0}


def test_dropout_invalid_probability():
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        F.dropout(mg.ones(3), 1.5)


# -- normalization and distances ---------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_cosine_similarity(torch, TF, dtype):
    compare(torch, F.cosine_similarity, TF.cosine_similarity, [rand(3, 4), rand(3, 4, seed=1)], dtype)
    compare(torch, lambda a, b: F.cosine_similarity(a, b, dim=-1), lambda a, b: TF.cosine_similarity(a, b, dim=-1),
            [rand(2, 3, 4), rand(3, 4, seed=1)], dtype)


def test_cosine_similarity_zero_vector_gradient_is_finite(torch, TF):
    x = np.zeros((2, 3))
    x[1] = [1.0, 2.0, 3.0]
    compare(torch, F.cosine_similarity, TF.cosine_similarity, [x, rand(2, 3, seed=1)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p, dim", [(2.0, 1), (1.0, 0), (3.0, -1)])
def test_normalize(torch, TF, dtype, p, dim):
    x = rand(3, 4, low=0.5, high=2.0)
    x[0] *= -1
    compare(torch, lambda t: F.normalize(t, p, dim), lambda t: TF.normalize(t, p, dim), [x], dtype)


def test_normalize_zero_row(torch, TF):
    x = rand(3, 4)
    x[1] = 0
    compare(torch, F.normalize, TF.normalize, [x])


@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_norm(torch, TF, dtype):
    x = rand(2, 3, 4)
    compare(torch, lambda t, w, b: F.layer_norm(t, (3, 4), w, b), lambda t, w, b: TF.layer_norm(t, (3, 4), w, b),
            [x, rand(3, 4, seed=1), rand(3, 4, seed=2)], dtype)
    compare(torch, lambda t: F.layer_norm(t, [4], eps=1e-3), lambda t: TF.layer_norm(t, [4], eps=1e-3), [x], dtype)


def test_layer_norm_double_backward(torch, TF):
    compare_double_backward(torch, lambda t, w: F.layer_norm(t, [4], w), lambda t, w: TF.layer_norm(t, [4], w),
                            [rand(3, 4), rand(4, seed=1)])


def test_layer_norm_shape_error():
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\], "
                                           r"but got input of size\[3, 5\]"):
        F.layer_norm(mg.ones(3, 5), [4])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 4, 4), (3, 3, 5)])
def test_batch_norm_training_updates_running_stats(torch, TF, dtype, shape):
    x = rand(*shape)
    stats = {lib: (lib.zeros(3, dtype=getattr(lib, dtype)), lib.ones(3, dtype=getattr(lib, dtype)))
             for lib in (mg, torch)}
    compare(torch,
            lambda t, w, b: F.batch_norm(t, *stats[mg], w, b, training=True, momentum=0.2),
            lambda t, w, b: TF.batch_norm(t, *stats[torch], w, b, training=True, momentum=0.2),
            [x, rand(3, seed=1), rand(3, seed=2)], dtype)
    tol = dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stats[mg][0].numpy(), stats[torch][0].numpy(), **tol)
    np.testing.assert_allclose(stats[mg][1].numpy(), stats[torch][1].numpy(), **tol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_eval(torch, TF, dtype):
    mean, var = rand(3, seed=3), rand(3, low=0.5, high=2.0, seed=4)
    compare(torch,
            lambda t, w, m, v: F.batch_norm(t, m.detach(), v.detach(), w, training=False),
            lambda t, w, m, v: TF.batch_norm(t, m.detach(), v.detach(), w, training=False),
            [rand(2, 3, 4), rand(3, seed=1), mean, var], dtype)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        F.batch_norm(mg.ones(1, 3), mg.zeros(3), mg.ones(3), training=True)
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(mg.ones(4, 3), None, None, training=False)
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 2"):
        F.batch_norm(mg.ones(4, 3), mg.zeros(2), mg.ones(3), training=True)


# -- padding ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode, pad, shape", [
    ("constant", (1, 2), (2, 3, 4)),
    ("constant", (1, 0, -1, 2), (2, 3, 4)),
    ("reflect", (2, 1, 3, 0), (1, 2, 4, 5)),
    ("replicate", (2, 1, 3, 0), (1, 2, 4, 5)),
    ("circular", (2, 1, 3, 0), (1, 2, 4, 5)),
    ("reflect", (2, 1), (2, 5)),
    ("replicate", (1, 1, 1, 1, 1, 1), (1, 2, 3, 4, 2)),
])
def test_pad(torch, TF, dtype, mode, pad, shape):
    compare(torch, lambda t: F.pad(t, pad, mode), lambda t: TF.pad(t, pad, mode), [rand(*shape)], dtype)


def test_pad_constant_value(torch, TF):
    compare(torch, lambda t: F.pad(t, (1, 1), value=2.5), lambda t: TF.pad(t, (1, 1), value=2.5), [rand(2, 3)])
    compare_double_backward(torch, lambda t: F.pad(t, (1, -1)) ** 2, lambda t: TF.pad(t, (1, -1)) ** 2, [rand(2, 3)])


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.pad(mg.ones(2, 3), (1,)), RuntimeError, "Padding length must be divisible by 2"),
    (lambda: F.pad(mg.ones(2, 3), (1, 1, 1, 1, 1, 1)), RuntimeError, "Padding length should be less than or equal"),
    (lambda: F.pad(mg.ones(2, 3), (-2, -2)), RuntimeError, "resulted in a negative output size"),
    (lambda: F.pad(mg.ones(1, 2, 3), (3, 3), "reflect"), RuntimeError, "Padding size should be less than"),
    (lambda: F.pad(mg.ones(1, 2, 3), (1, 1), "reflect", 1.0), RuntimeError, "doesn't take in value argument"),
    (lambda: F.pad(mg.ones(1, 2, 3), (1, 1), "foo"), NotImplementedError, "Unrecognised padding mode foo"),
    (lambda: F.pad(mg.ones(1, 1, 2, 3), (1, 1), "reflect"), NotImplementedError, "Padding size 2 is not supported"),
])
def test_pad_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- embedding and one_hot -------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 2}, {"padding_idx": -1}, {"scale_grad_by_freq": True},
                                    {"padding_idx": 0, "scale_grad_by_freq": True}])
def test_embedding(torch, TF, dtype, kwargs):
    indices = np.array([[0, 2, 9, 2], [3, 3, 3, 0]])
    compare(torch, lambda i, w: F.embedding(i, w, **kwargs), lambda i, w: TF.embedding(i, w, **kwargs),
            [indices, rand(10, 3)], dtype)


def test_embedding_double_backward(torch, TF):
    indices = np.array([0, 2, 2, 1])

    def ours(i, w):
        return F.embedding(i, w, padding_idx=1) ** 2

    def theirs(i, w):
        return TF.embedding(i, w, padding_idx=1) ** 2

    compare_double_backward(torch, ours, theirs, [indices, rand(4, 3)])


def test_embedding_max_norm_renormalizes_rows(torch, TF):
    weight = rand(5, 3, low=1.0, high=3.0)
    indices = np.array([0, 2, 2])
    ours, theirs = mg.tensor(weight), torch.tensor(weight)
    out = F.embedding(mg.tensor(indices), ours, max_norm=1.0)
    expected = TF.embedding(torch.tensor(indices), theirs, max_norm=1.0)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_embedding_errors():
    weight = mg.ones(3, 2)
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(mg.tensor([1, 5]), weight)
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices'"):
        F.embedding(mg.tensor([1.0]), weight)
    with pytest.raises(ValueError, match="Padding_idx must be within num_embeddings"):
        F.embedding(mg.tensor([1]), weight, padding_idx=5)


def test_one_hot(torch, TF):
    values = np.array([[0, 3], [1, 1]])
    np.testing.assert_array_equal(F.one_hot(mg.tensor(values)).numpy(), TF.one_hot(torch.tensor(values)).numpy())
    out = F.one_hot(mg.tensor(values), 6)
    assert out.dtype == mg.int64
    np.testing.assert_array_equal(out.numpy(), TF.one_hot(torch.tensor(values), 6).numpy())


@pytest.mark.parametrize("values, num_classes, message", [
    ([1.0], -1, "one_hot is only applicable to index tensor of type LongTensor."),
    ([-1], 3, "Class values must be non-negative."),
    ([3], 3, "Class values must be smaller than num_classes."),
])
def test_one_hot_errors(values, num_classes, message):
    with pytest.raises(RuntimeError, match=message):
        F.one_hot(mg.tensor(values), num_classes)
