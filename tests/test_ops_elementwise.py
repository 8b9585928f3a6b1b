"""Elementwise ops against PyTorch: values and input gradients in float32 and float64."""

from __future__ import annotations

import math

import numpy as np
import pytest

import multigrad as mg
from torch_oracle import compare, random_array

UNARY = {
    # name: (low, high) of the inputs, away from poles and kinks
    "exp2": (-2, 2), "expm1": (-2, 2), "log2": (0.2, 3), "log10": (0.2, 3), "log1p": (-0.5, 2),
    "rsqrt": (0.2, 3), "reciprocal": (0.3, 2), "square": (-2, 2), "sin": (-3, 3), "cos": (-3, 3),
    "tan": (-1.2, 1.2), "asin": (-0.9, 0.9), "acos": (-0.9, 0.9), "atan": (-3, 3), "sinh": (-2, 2),
    "cosh": (-2, 2), "erf": (-2, 2), "frac": (-3, 3), "floor": (-3, 3), "ceil": (-3, 3),
    "trunc": (-3, 3), "round": (-3, 3),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", [(3, 4), (), (0, 2)])
def test_unary_matches_torch(torch, name, shape):
    low, high = UNARY[name]
    compare(torch, lambda t: getattr(t, name)(), random_array(shape, low, high))
    compare(torch, lambda t: getattr(mg, name)(t), random_array(shape, low, high),
            torch_fn=lambda t: getattr(torch, name)(t))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_inplace_matches_torch(torch, name):
    low, high = UNARY[name]
    compare(torch, lambda t: getattr(t * 1, name + "_")(), random_array((2, 3), low, high))


def test_integer_input_gives_float(torch):
    values = np.array([1, 2, 4])
    for name in ("exp2", "log2", "sin", "rsqrt", "reciprocal"):
        compare(torch, lambda t: getattr(t, name)(), values, grad=False)


def test_rounding_keeps_integers(torch):
    values = np.array([-3, 0, 7])
    for name in ("floor", "ceil", "trunc", "round", "square"):
        compare(torch, lambda t: getattr(t, name)(), values, grad=False)


def test_round_halves_to_even(torch):
    values = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.125])
    compare(torch, lambda t: t.round(), values, grad=False)
    compare(torch, lambda t: t.round(decimals=2), values, grad=False)


@pytest.mark.parametrize("name, kwargs", [
    ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {}), ("elu", {"alpha": 0.5}),
    ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("softplus", {}),
    ("softplus", {"beta": 2.0, "threshold": 3.0}),
])
def test_activation_matches_torch(torch, name, kwargs):
    values = random_array((4, 5), -3, 3)
    values[np.abs(values) < 0.05] = 0.5
    compare(torch, lambda t: getattr(mg, name)(t, **kwargs), values,
            torch_fn=lambda t: getattr(torch.nn.functional, name)(t, **kwargs))


def test_softplus_is_stable_for_large_inputs(torch):
    values = np.array([-200.0, -30.0, 0.0, 30.0, 60.0])
    compare(torch, lambda t: mg.softplus(t, threshold=1000), values,
            torch_fn=lambda t: torch.nn.functional.softplus(t, threshold=1000))
    # PyTorch overflows to inf here; log(1 + exp(x)) is x up to rounding.
    big = mg.softplus(mg.tensor([200.0, 1000.0]), threshold=10000)
    assert big.tolist() == [200.0, 1000.0]


def test_inplace_activations(torch):
    compare(torch, lambda t: (t * 1).leaky_relu_(0.1), random_array((3, 3)),
            torch_fn=lambda t: torch.nn.functional.leaky_relu_(t * 1, 0.1))
    compare(torch, lambda t: (t * 1).elu_(), random_array((3, 3)),
            torch_fn=lambda t: torch.nn.functional.elu_(t * 1))


def test_gelu_rejects_unknown_mode():
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        mg.gelu(mg.ones(2), approximate="fast")


# -- binary ops -----------------------------------------------------------------------

@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((), (2, 3))])
@pytest.mark.parametrize("name", ["atan2", "maximum", "minimum", "remainder", "fmod"])
def test_binary_matches_torch(torch, name, shapes):
    a = random_array(shapes[0], 0.3, 3, seed=1)
    b = random_array(shapes[1], 0.3, 3, seed=2)
    compare(torch, lambda x, y: getattr(mg, name)(x, y), a, b, torch_fn=lambda x, y: getattr(torch, name)(x, y))


def test_remainder_follows_divisor_sign(torch):
    a = np.array([-3.5, -1.0, 2.5, 4.0])
    compare(torch, lambda x: x % 1.5, a)
    compare(torch, lambda x: x % -1.5, a)
    compare(torch, lambda x: 7.0 % x, np.array([2.0, -3.0, 1.5]), grad=False)
    compare(torch, lambda x: x.fmod(-1.5), a)


def test_maximum_splits_ties(torch):
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([1.0, 5.0, 3.0])
    compare(torch, mg.maximum, a, b, torch_fn=torch.maximum)
    compare(torch, mg.minimum, a, b, torch_fn=torch.minimum)


def test_max_and_min_of_two_tensors(torch):
    a, b = random_array((3, 4), seed=3), random_array((4,), seed=4)
    compare(torch, lambda x, y: x.max(y), a, b)
    compare(torch, lambda x, y: mg.min(x, y), a, b, torch_fn=lambda x, y: torch.min(x, y))


@pytest.mark.parametrize("bounds", [(-0.5, 0.5), (None, 0.2), (0.1, None), (1.0, -1.0)])
def test_clamp_number_bounds(torch, bounds):
    low, high = bounds
    values = random_array((3, 4))
    compare(torch, lambda t: t.clamp(low, high), values)
    compare(torch, lambda t: mg.clip(t, low, high), values, torch_fn=lambda t: torch.clip(t, low, high))
    compare(torch, lambda t: (t * 1).clamp_(low, high), values)


def test_clamp_tensor_bounds(torch):
    values = random_array((3, 4), seed=5)
    low = random_array((4,), -1, 0, seed=6)
    high = random_array((3, 1), 0, 1, seed=7)
    compare(torch, lambda t, lo, hi: t.clamp(lo, hi), values, low, high)
    compare(torch, lambda t, lo: t.clamp(min=lo), values, low)
    compare(torch, lambda t, hi: t.clamp(max=hi), values, high)
    compare(torch, lambda t, lo: t.clamp_min(lo), values, low)
    compare(torch, lambda t, hi: mg.clamp_max(t, hi), values, high, torch_fn=lambda t, hi: torch.clamp_max(t, hi))
    # min above max: every element becomes max, and the gradient goes to max
    compare(torch, lambda t, lo, hi: t.clamp(lo, hi), values, high + 2, low)


def test_clamp_promotes_integers_with_float_bound(torch):
    compare(torch, lambda t: t.clamp(0.5, 2), np.array([0, 1, 3]), grad=False)
    compare(torch, lambda t: t.clamp(1, 2), np.array([0, 1, 3]), grad=False)


def test_clamp_without_bounds_raises():
    x = mg.ones(3)
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max' must not be None"):
        x.clamp()


def test_lerp_matches_torch(torch):
    a, b = random_array((3, 4), seed=1), random_array((3, 4), seed=2)
    w = random_array((4,), 0, 1, seed=3)
    compare(torch, lambda x, y: x.lerp(y, 0.3), a, b)
    compare(torch, lambda x, y: mg.lerp(x, y, 0.8), a, b, torch_fn=lambda x, y: torch.lerp(x, y, 0.8))
    compare(torch, lambda x, y, z: x.lerp(y, z), a, b, w)
    compare(torch, lambda x, y: (x * 1).lerp_(y, 0.25), a, b)


def test_addcmul_and_addcdiv(torch):
    a, b, c = random_array((3, 4), seed=1), random_array((4,), seed=2), random_array((3, 1), 0.5, 2, seed=3)
    compare(torch, lambda x, y, z: x.addcmul(y, z), a, b, c)
    compare(torch, lambda x, y, z: mg.addcmul(x, y, z, value=-0.5), a, b, c,
            torch_fn=lambda x, y, z: torch.addcmul(x, y, z, value=-0.5))
    compare(torch, lambda x, y, z: x.addcdiv(y, z, value=2), a, b, c)
    compare(torch, lambda x, y, z: (x * 1).addcdiv_(y, z), a, b, c)


def test_addcdiv_rejects_integers():
    x = mg.zeros(3)
    with pytest.raises(RuntimeError, match="Integer division with addcdiv is no longer supported"):
        x.addcdiv(mg.tensor([1, 2, 3]), mg.tensor([1, 1, 1]))


def test_rsub(torch):
    a, b = random_array((3, 4), seed=1), random_array((4,), seed=2)
    compare(torch, lambda x, y: mg.rsub(x, y), a, b, torch_fn=torch.rsub)
    compare(torch, lambda x: mg.rsub(x, 2.0, alpha=3), a, torch_fn=lambda x: torch.rsub(x, 2.0, alpha=3))


# -- existing arithmetic: alpha, rounding_mode, pow forms --------------------------------

def test_add_sub_alpha(torch):
    a, b = random_array((3, 4), seed=1), random_array((4,), seed=2)
    compare(torch, lambda x, y: x.add(y, alpha=2.5), a, b)
    compare(torch, lambda x, y: mg.sub(x, y, alpha=-0.5), a, b, torch_fn=lambda x, y: torch.sub(x, y, alpha=-0.5))
    compare(torch, lambda x, y: (x * 1).add_(y, alpha=3), a, b)


@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
def test_div_rounding_modes(torch, mode):
    a, b = random_array((3, 4), -5, 5, seed=1), random_array((4,), 0.5, 2, seed=2)
    compare(torch, lambda x, y: x.div(y, rounding_mode=mode), a, b)
    compare(torch, lambda x, y: x.div(y, rounding_mode=mode), np.array([7, -7, 5]), np.array([2, 2, -3]), grad=False)


def test_div_rejects_unknown_rounding_mode():
    with pytest.raises(RuntimeError, match="rounding_mode"):
        mg.ones(2).div(2, rounding_mode="round")


def test_pow_forms(torch):
    base = random_array((3, 4), 0.5, 2, seed=1)
    exponent = random_array((4,), -1, 2, seed=2)
    compare(torch, lambda x, y: x ** y, base, exponent)
    compare(torch, lambda x: x ** 3, base)
    compare(torch, lambda x: x.pow(0.5), base)
    compare(torch, lambda y: 2.0 ** y, exponent)
    compare(torch, lambda y: mg.pow(3, y), exponent, torch_fn=lambda y: torch.pow(3, y))
    compare(torch, lambda x: x ** 0, base)


# -- logic -------------------------------------------------------------------------------

def _bools(shape, seed):
    return np.random.default_rng(seed).random(shape) > 0.5


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical_ops(torch, name):
    a, b = _bools((3, 4), 1), _bools((4,), 2)
    compare(torch, getattr(mg, name), a, b, torch_fn=getattr(torch, name), grad=False)
    compare(torch, getattr(mg, name), random_array((3, 4)), b, torch_fn=getattr(torch, name), grad=False)


def test_bool_operators(torch):
    a, b = _bools((3, 4), 1), _bools((4,), 2)
    compare(torch, lambda x, y: x & y, a, b, grad=False)
    compare(torch, lambda x, y: x | y, a, b, grad=False)
    compare(torch, lambda x, y: x ^ y, a, b, grad=False)
    compare(torch, lambda x: ~x, a, grad=False)
    compare(torch, lambda x: x & True, a, grad=False)


def test_integer_bitwise_ops(torch):
    a, b = np.array([5, 12, -3]), np.array([3, 10, 7])
    compare(torch, lambda x, y: x & y, a, b, grad=False)
    compare(torch, lambda x, y: x | y, a, b, grad=False)
    compare(torch, lambda x, y: x ^ y, a, b, grad=False)
    compare(torch, lambda x: ~x, a, grad=False)


def test_bitwise_on_float_raises():
    with pytest.raises(RuntimeError, match="not implemented for 'Float'"):
        mg.ones(2) & mg.ones(2)


def test_inplace_bool_operators(torch):
    a, b = _bools((3, 4), 1), _bools((4,), 2)
    compare(torch, lambda x, y: x.clone().__iand__(y), a, b, grad=False)
    compare(torch, lambda x, y: x.clone().__ior__(y), a, b, grad=False)


def test_float_classification(torch):
    values = np.array([0.0, -1.5, math.inf, -math.inf, math.nan])
    for name in ("isnan", "isinf", "isfinite"):
        compare(torch, getattr(mg, name), values, torch_fn=getattr(torch, name), grad=False)
        compare(torch, lambda t: getattr(t, name)(), values, grad=False)
    compare(torch, mg.isfinite, np.array([1, 2]), torch_fn=torch.isfinite, grad=False)
