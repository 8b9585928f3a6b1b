"""multigrad.nn.functional convolutions and poolings against torch.nn.functional."""

from __future__ import annotations

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


# -- convolution -----------------------------------------------------------------------------

CONV2D_CASES = [
    ((2, 3, 6, 6), (4, 3, 3, 3), True, {"padding": 1}),
    ((2, 3, 7, 6), (4, 3, 3, 2), True, {"stride": 2, "padding": (1, 0)}),
    ((1, 4, 9, 8), (6, 2, 3, 3), False, {"stride": (2, 1), "dilation": (1, 2), "groups": 2}),
    ((2, 3, 5, 5), (2, 3, 2, 2), True, {"padding": "same"}),
    ((2, 3, 7, 7), (2, 3, 3, 3), False, {"padding": "same", "dilation": 2}),
    ((2, 3, 5, 5), (2, 3, 3, 3), True, {"padding": "valid"}),
    ((3, 5, 5), (2, 3, 3, 3), True, {"padding": 1}),
    ((1, 4, 6, 6), (4, 1, 3, 3), True, {"groups": 4, "padding": 1}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape, w_shape, bias, kwargs", CONV2D_CASES)
def test_conv2d(torch, TF, dtype, x_shape, w_shape, bias, kwargs):
    args = [rand(*x_shape), rand(*w_shape, seed=1)] + ([rand(w_shape[0], seed=2)] if bias else [])
    compare(torch, lambda *a: F.conv2d(*a, **kwargs), lambda *a: TF.conv2d(*a, **kwargs), args, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape, w_shape, bias, kwargs", [
    ((2, 3, 9), (4, 3, 3), True, {"padding": 1}),
    ((2, 4, 9), (6, 2, 3), False, {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}),
    ((2, 3, 8), (4, 3, 2), True, {"padding": "same"}),
    ((3, 8), (4, 3, 3), True, {}),
])
def test_conv1d(torch, TF, dtype, x_shape, w_shape, bias, kwargs):
    args = [rand(*x_shape), rand(*w_shape, seed=1)] + ([rand(w_shape[0], seed=2)] if bias else [])
    compare(torch, lambda *a: F.conv1d(*a, **kwargs), lambda *a: TF.conv1d(*a, **kwargs), args, dtype)


@pytest.mark.parametrize("kwargs", [{"padding": 1, "groups": 2}, {"stride": 2, "groups": 2, "dilation": (2, 1)}])
def test_conv2d_double_backward(torch, TF, kwargs):
    compare_double_backward(torch, lambda x, w: F.conv2d(x, w, **kwargs), lambda x, w: TF.conv2d(x, w, **kwargs),
                            [rand(2, 4, 7, 6), rand(4, 2, 3, 2, seed=1)])


def test_conv2d_grad_fn_name():
    out = F.conv2d(mg.ones(1, 1, 3, 3, requires_grad=True), mg.ones(1, 1, 2, 2))
    assert out.grad_fn.name() == "ConvolutionBackward0"


@pytest.mark.parametrize("call, message", [
    (lambda: F.conv2d(mg.ones(1, 4, 5, 5), mg.ones(2, 3, 3, 3)),
     r"Given groups=1, weight of size \[2, 3, 3, 3\], expected input\[1, 4, 5, 5\] to have 3 channels, "
     r"but got 4 channels instead"),
    (lambda: F.conv2d(mg.ones(1, 4, 5, 5), mg.ones(3, 2, 3, 3), groups=2),
     "Given groups=2, expected weight to be divisible by 2 at dimension 0"),
    (lambda: F.conv2d(mg.ones(1, 3, 2, 2), mg.ones(2, 3, 3, 3)),
     r"Calculated padded input size per channel: \(2 x 2\). Kernel size: \(3 x 3\). Kernel size can't be greater"),
    (lambda: F.conv2d(mg.ones(3, 5, 5), mg.ones(2, 3, 3, 3), stride=2, padding="same"),
     "padding='same' is not supported for strided convolutions"),
    (lambda: F.conv2d(mg.ones(3, 5, 5), mg.ones(2, 3, 3, 3), padding="foo"), "Invalid padding string: 'foo'"),
    (lambda: F.conv2d(mg.ones(3, 5), mg.ones(2, 3, 3, 3)),
     r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of size: \[3, 5\]"),
    (lambda: F.conv2d(mg.ones(1, 3, 5, 5), mg.ones(2, 3, 3, 3), padding=-1), "negative padding is not supported"),
    (lambda: F.conv2d(mg.ones(1, 3, 5, 5), mg.ones(2, 3, 3, 3, dtype=mg.float64)),
     "expected scalar type Double but found Float"),
])
def test_conv_errors(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()


# -- max pooling -------------------------------------------------------------------------------

POOL_CASES = [
    ((2, 3, 6, 6), {"kernel_size": 2}),
    ((1, 2, 7, 6), {"kernel_size": (3, 2), "stride": (2, 1), "padding": 1}),
    ((1, 2, 7, 7), {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
    ((1, 2, 8, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ((2, 5, 5), {"kernel_size": 2, "stride": 1}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, kwargs", POOL_CASES + [
    ((1, 2, 9, 8), {"kernel_size": 2, "dilation": (2, 3), "padding": 1}),
])
def test_max_pool2d(torch, TF, dtype, shape, kwargs):
    compare(torch, lambda x: F.max_pool2d(x, **kwargs), lambda x: TF.max_pool2d(x, **kwargs), [rand(*shape)], dtype)


def test_max_pool2d_return_indices(torch, TF):
    x = rand(1, 2, 7, 6)
    out, indices = F.max_pool2d(mg.tensor(x), 3, 2, 1, return_indices=True)
    expected, expected_indices = TF.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())
    assert indices.dtype == mg.int64


def test_max_pool2d_ties_pick_first(torch, TF):
    compare(torch, lambda x: F.max_pool2d(x, 2, 1), lambda x: TF.max_pool2d(x, 2, 1), [np.zeros((1, 1, 3, 3))])


def test_max_pool2d_double_backward(torch, TF):
    compare_double_backward(torch, lambda x: F.max_pool2d(x, 3, 2, 1) ** 2, lambda x: TF.max_pool2d(x, 3, 2, 1) ** 2,
                            [rand(1, 2, 6, 6)])


def test_max_pool2d_errors():
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size, but got pad=2"):
        F.max_pool2d(mg.ones(1, 3, 5, 5), 3, padding=2)
    with pytest.raises(RuntimeError, match=r"Given input size: \(3x2x2\). Calculated output size: \(3x0x0\)"):
        F.max_pool2d(mg.ones(1, 3, 2, 2), 3)


# -- average pooling -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, kwargs", POOL_CASES + [
    ((1, 2, 7, 6), {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}),
    ((1, 2, 8, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}),
    ((1, 2, 5, 5), {"kernel_size": 3, "stride": 2, "padding": 1, "divisor_override": 4}),
])
def test_avg_pool2d(torch, TF, dtype, shape, kwargs):
    compare(torch, lambda x: F.avg_pool2d(x, **kwargs), lambda x: TF.avg_pool2d(x, **kwargs), [rand(*shape)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, output_size", [
    ((2, 3, 6, 6), 3), ((1, 2, 7, 5), (3, 2)), ((1, 2, 5, 7), (None, 4)), ((2, 5, 5), 1), ((1, 1, 3, 3), 5),
])
def test_adaptive_avg_pool2d(torch, TF, dtype, shape, output_size):
    compare(torch, lambda x: F.adaptive_avg_pool2d(x, output_size),
            lambda x: TF.adaptive_avg_pool2d(x, output_size), [rand(*shape)], dtype)


# -- a small CNN step, as the benchmark runs it -----------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_cnn_step_gradients(torch, TF, dtype):
    def network(lib_f, x, labels, w1, b1, w2, b2, w3, b3):
        h = lib_f.conv2d(x, w1, b1, padding=1).relu()
        h = lib_f.max_pool2d(h, 2)
        h = lib_f.conv2d(h, w2, b2, padding=1).relu()
        logits = h.reshape(x.shape[0], -1) @ w3 + b3
        return lib_f.cross_entropy(logits, labels)

    args = [rand(4, 1, 8, 8), np.array([1, 0, 9, 3]), rand(8, 1, 3, 3, seed=1), rand(8, seed=2),
            rand(16, 8, 3, 3, seed=3) / 5, rand(16, seed=4), rand(256, 10, seed=5) / 10, rand(10, seed=6)]
    compare(torch, lambda *a: network(F, *a), lambda *a: network(TF, *a), args, dtype, constant=[0])


def test_max_pool2d_nan_matches_pytorch(torch, TF):
    x = rand(1, 2, 5, 5)
    x[0, 0, 1, 1] = np.nan
    x[0, 1, :2, :2] = np.nan
    out, indices = F.max_pool2d(mg.tensor(x), 2, 1, return_indices=True)
    expected, expected_indices = TF.max_pool2d(torch.tensor(x), 2, 1, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())
