"""Kernels that match the core's names and parameters, compared with the NumPy backend's kernels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from multigrad_numpy.backend import NumpyBackend

NUMPY = NumpyBackend(0)


def _compare(backend, name, *args, rtol=1e-5):
    device_args = [backend.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
    result = backend.to_numpy(getattr(backend, name)(*device_args))
    expected = getattr(NUMPY, name)(*args)
    assert result.shape == expected.shape
    assert result.dtype == expected.dtype
    np.testing.assert_allclose(result, expected, rtol=rtol, atol=1e-6)


PARAMETRIC_CASES = [
    ("add", ("y", 2.5)), ("sub", ("y", 0.5)), ("true_divide", ("y",)), ("div_rounding", ("y", "floor")),
    ("div_rounding", ("y", "trunc")), ("leaky_relu", (0.1,)), ("elu", (1.5,)), ("gelu", ("none",)),
    ("gelu", ("tanh",)), ("softplus", (2.0, 1.0)), ("round", (1,)), ("round", (-1,)), ("clamp", (-1.0, 0.5)),
    ("clamp", (None, 0.5)), ("lerp", ("y", 0.3)), ("silu", ()), ("log_sigmoid", ()), ("frac", ()),
    ("fill", (3.0,)), ("copy_from", ("y",)), ("where_self", ()),
]


@pytest.mark.parametrize("name, extra", PARAMETRIC_CASES, ids=lambda v: str(v))
def test_parametric_elementwise(backend, rng, name, extra) -> None:
    x = rng.uniform(-3, 3, (4, 5)).astype(np.float32)
    y = rng.uniform(0.5, 2, (5,)).astype(np.float32)
    if name == "where_self":
        _compare(backend, "where", x > 0, x, 0.25)
        return
    _compare(backend, name, x, *[y if e == "y" else e for e in extra])


@pytest.mark.parametrize("p", [2, 1, math.inf, -math.inf, 0, 3.0])
def test_norm_and_mean(backend, rng, p) -> None:
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    _compare(backend, "norm", x, p, (0, 2), False)
    _compare(backend, "mean", x, (1,), True)


def test_shape_kernels(backend, rng) -> None:
    x = rng.standard_normal((4, 5, 6)).astype(np.float32)
    _compare(backend, "flip", x, (0, 2))
    _compare(backend, "roll", x, (2, -1), (1, 2))
    _compare(backend, "roll", x, (3,), None)
    _compare(backend, "tril", x, 1)
    _compare(backend, "triu", x, -1)
    parts = [backend.from_numpy(x), backend.from_numpy(x[:, :2].copy())]
    np.testing.assert_array_equal(backend.to_numpy(backend.cat(parts, 1)), np.concatenate([x, x[:, :2]], 1))
    _compare(backend, "diagonal_backward", x[0, :4, 0].copy(), (4, 6), 1, 0, 1)
    assert backend.can_view(backend.from_numpy(x), (20, 6))
    assert not backend.can_view(backend.permute(backend.from_numpy(x), (2, 1, 0)), (30, 4))


def test_nn_kernels(backend, rng) -> None:
    x = rng.standard_normal((2, 4, 7, 6)).astype(np.float32)
    _compare(backend, "softmax", x, 1)
    _compare(backend, "log_softmax", x, 3)
    _compare(backend, "constant_pad_nd", x, (1, 2, -1, 1), 0.5)
    _compare(backend, "binary_cross_entropy", rng.uniform(0.01, 0.99, (5,)).astype(np.float32),
             rng.uniform(0, 1, (5,)).astype(np.float32))
    for stride, padding, dilation, groups, weight_shape in [((1, 1), (0, 0), (1, 1), 2, (6, 2, 3, 2)),
                                                            ((2, 1), (1, 2), (1, 2), 1, (3, 4, 3, 2))]:
        weight = rng.standard_normal(weight_shape).astype(np.float32)
        _compare(backend, "conv_nd", x, weight, stride, padding, dilation, groups, rtol=1e-4)
        grad = rng.standard_normal(NUMPY.conv_nd(x, weight, stride, padding, dilation, groups).shape).astype(np.float32)
        _compare(backend, "conv_nd_backward_weight", grad, x, weight.shape, stride, padding, dilation, groups, rtol=1e-4)
        _compare(backend, "conv_nd_backward_input", grad, weight, x.shape, stride, padding, dilation, groups, rtol=1e-4)
    signal, kernel = rng.standard_normal((2, 4, 9)).astype(np.float32), rng.standard_normal((3, 4, 3)).astype(np.float32)
    _compare(backend, "conv_nd", signal, kernel, (2,), (1,), (1,), 1, rtol=1e-4)


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pool_kernels(backend, rng, ceil_mode) -> None:
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    args = ((3, 2), (2, 1), (1, 1), (1, 1), ceil_mode)
    _compare(backend, "max_pool2d_indices", x, *args)
    indices = NUMPY.max_pool2d_indices(x, *args)
    _compare(backend, "pool_gather", x, indices)
    _compare(backend, "pool_scatter_add", rng.standard_normal(indices.shape).astype(np.float32), indices, x.shape)


def test_embedding_kernels(backend, rng) -> None:
    weight = rng.standard_normal((10, 3)).astype(np.float32)
    indices = np.array([[1, 2, 1], [0, 9, 2]])
    grad = rng.standard_normal((2, 3, 3)).astype(np.float32)
    _compare(backend, "embedding", weight, indices, -1, False, False)
    _compare(backend, "embedding_dense_backward", grad, indices, 10, -1, False)
    _compare(backend, "embedding_dense_backward", grad, indices, 10, 1, True)
