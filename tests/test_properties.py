"""Property tests: random shapes, broadcasts, reduction dims and op chains, compared with PyTorch.

Each example runs the same expression in multigrad and in PyTorch on the
same float64 values and compares the result and the gradient of every input.
Ops that the registry does not declare yet are left out of the draws.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import multigrad as mg
from multigrad.testing import compare_arrays, tolerance

SETTINGS = settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
TOL = tolerance("float64")


def _present(names):
    return [name for name in names if hasattr(mg, name)]


BINARY_OPS = _present(["add", "sub", "mul", "div", "maximum", "minimum"])
REDUCTIONS = _present(["sum", "mean", "amax", "prod", "var"])


def _values(seed: int, shape: tuple, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def _run_both(torch, arrays: list, expression):
    """Run ``expression(lib, *tensors)`` in multigrad and torch; compare the output and every input's gradient."""
    results = []
    for lib in (mg, torch):
        inputs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
        out = expression(lib, *inputs)
        weights = lib.tensor(_values(7, tuple(out.shape)), dtype=lib.float64)
        grads = lib.autograd.grad((out * weights).sum(), inputs, allow_unused=True)
        results.append((out, grads))

    (out, grads), (expected, expected_grads) = results
    assert tuple(out.shape) == tuple(expected.shape)
    problem = compare_arrays(out.detach().numpy(), expected.detach().numpy(), TOL)
    assert problem is None, f"output: {problem}"
    for i, (g, e) in enumerate(zip(grads, expected_grads)):
        assert (g is None) == (e is None), f"gradient {i}: {g} vs {e}"
        if g is not None:
            problem = compare_arrays(g.numpy(), e.numpy(), TOL)
            assert problem is None, f"gradient of input {i}: {problem}"


# -- binary ops with broadcasting ----------------------------------------------------


@pytest.mark.skipif(not BINARY_OPS, reason="no binary op in the registry")
@SETTINGS
@given(
    name=st.sampled_from(BINARY_OPS or ["add"]),
    shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_binary_broadcast(torch, name, shapes, seed):
    a_shape, b_shape = shapes.input_shapes
    a = _values(seed, a_shape)
    # Keep divisors away from zero and maximum/minimum away from ties.
    b = _values(seed + 1, b_shape, 0.5, 2.0) * np.where(_values(seed + 2, b_shape) < 0, -1, 1)

    _run_both(torch, [a, b], lambda lib, x, y: getattr(lib, name)(x, y))


# -- reductions ----------------------------------------------------------------------


@st.composite
def reduction_cases(draw):
    shape = draw(array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    dims = draw(st.one_of(st.none(), st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True)))
    if dims is not None and draw(st.booleans()):
        dims = [d - len(shape) for d in dims]  # negative dims count from the end
    keepdim = draw(st.booleans())
    return shape, dims, keepdim


def _reduce(name, dims, keepdim):
    def expression(lib, x):
        if dims is None:
            return getattr(lib, name)(x)
        if name == "prod":
            # PyTorch's prod takes one dim only, so reduce the dims one at a time from the last.
            out = x
            for d in sorted((d % x.ndim for d in dims), reverse=True):
                out = lib.prod(out, d, keepdim)
            return out
        return getattr(lib, name)(x, tuple(dims), keepdim=keepdim)

    return expression


@pytest.mark.skipif(not REDUCTIONS, reason="no reduction in the registry")
@SETTINGS
@given(name=st.sampled_from(REDUCTIONS or ["sum"]), case=reduction_cases(), seed=st.integers(0, 2**32 - 1))
def test_reduction_dims(torch, name, case, seed):
    shape, dims, keepdim = case
    count = int(np.prod([shape[d] for d in dims])) if dims is not None else int(np.prod(shape))
    if name == "var" and count < 2:
        return  # the unbiased variance of one element is nan in both; nothing to compare
    low, high = (0.5, 1.5) if name == "prod" else (-2.0, 2.0)

    _run_both(torch, [_values(seed, shape, low, high)], _reduce(name, dims, keepdim))


# -- chains of ops ----------------------------------------------------------------------

# Each step maps one tensor to one tensor and keeps every shape valid.
STEPS = {
    "exp_of_tanh": lambda lib, x: lib.exp(lib.tanh(x)),
    "sigmoid": lambda lib, x: lib.sigmoid(x),
    "square": lambda lib, x: x * x,
    "scale_shift": lambda lib, x: 2.5 * x - 1.0,
    "log_of_positive": lambda lib, x: lib.log(x * x + 1.0),
    "sqrt_of_positive": lambda lib, x: lib.sqrt(x * x + 0.5),
    "relu_shifted": lambda lib, x: lib.relu(x + 0.1),
    "transpose": lambda lib, x: x.transpose(0, -1) if x.ndim >= 2 else x,
    "flatten": lambda lib, x: x.reshape(-1),
    "sum_last_keepdim": lambda lib, x: x.sum(-1, keepdim=True) if x.ndim >= 1 else x,
    "mean_first": lambda lib, x: x.mean(0) if x.ndim >= 2 else x,
    "self_matmul": lambda lib, x: lib.matmul(x, x.transpose(-1, -2)) if x.ndim >= 2 else x,
    "index_first_row": lambda lib, x: x[0] if x.ndim >= 2 else x,
    "broadcast_add_row": lambda lib, x: x + x[..., :1] if x.ndim >= 1 else x,
}


@SETTINGS
@given(
    shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
    steps=st.lists(st.sampled_from(sorted(STEPS)), min_size=1, max_size=6),
    seed=st.integers(0, 2**32 - 1),
)
def test_op_chain(torch, shape, steps, seed):
    def chain(lib, x):
        for step in steps:
            x = STEPS[step](lib, x)
        return x

    _run_both(torch, [_values(seed, shape)], chain)


@SETTINGS
@given(
    shape=array_shapes(min_dims=2, max_dims=3, min_side=2, max_side=4),
    steps=st.lists(st.sampled_from(sorted(STEPS)), min_size=1, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_two_input_chain(torch, shape, steps, seed):
    # Two inputs meet in the middle, so gradients flow along two branches.
    def chain(lib, x, y):
        z = x * y + lib.tanh(y)
        for step in steps:
            z = STEPS[step](lib, z)
        return z

    _run_both(torch, [_values(seed, shape), _values(seed + 1, shape)], chain)
