"""A deterministic guard on per-op overhead: Python function calls per op, not seconds.

The op-overhead benchmark (a chain of mul, add, tanh and exp on 4 elements,
then sum and backward) is dominated by Python work per op, and the number of
Python-level calls tracks that work without timing noise. If a change adds
calls to the hot path, this test fails and reports by how much. Raise the budget
only together with a benchmark run that shows the cost is worth it.
"""

from __future__ import annotations

import collections
import sys

import numpy as np

import multigrad as mg

BLOCKS = 25
OPS_PER_STEP = 4 * BLOCKS + 1  # the chain, plus the final sum

#: Python calls per op, forward and backward together. Measured 9.9 with gradients passed as arrays
#: between array-path nodes and saved-tensor slots always set, 17.6 before either.
CALLS_PER_OP_BUDGET = 12.0


def _chain_step(x):
    x.grad = None
    y = x
    for _ in range(BLOCKS):
        y = y * 0.9
        y = y + -0.9
        y = mg.tanh(y)
        y = mg.exp(y)
    y.sum().backward()


def _count_python_calls(step, repeats: int = 3) -> tuple[float, collections.Counter]:
    step()  # warm-up: first-use imports and caches are not per-op work
    calls: collections.Counter = collections.Counter()

    def profile(frame, event, arg):
        if event == "call":
            code = frame.f_code
            calls[f"{code.co_filename.rsplit('/', 1)[-1]}:{code.co_name}"] += 1

    sys.setprofile(profile)
    try:
        for _ in range(repeats):
            step()
    finally:
        sys.setprofile(None)
    return sum(calls.values()) / repeats, calls


def test_python_calls_per_op_within_budget():
    x = mg.tensor(np.linspace(-1.0, 1.0, 4, dtype=np.float32), requires_grad=True)
    total, calls = _count_python_calls(lambda: _chain_step(x))
    per_op = total / OPS_PER_STEP
    top = ", ".join(f"{name} x{count // 3}" for name, count in calls.most_common(8))
    assert per_op <= CALLS_PER_OP_BUDGET, (
        f"{per_op:.1f} Python calls per op exceed the budget of {CALLS_PER_OP_BUDGET}; most called: {top}"
    )


def test_chain_gradient_is_still_correct():
    # The counted workload must stay meaningful: its gradient matches a float64 finite difference.
    values = np.linspace(-1.0, 1.0, 4)
    x = mg.tensor(values, dtype=mg.float64, requires_grad=True)
    _chain_step(x)

    def loss(v):
        y = v
        for _ in range(BLOCKS):
            y = np.exp(np.tanh(y * 0.9 - 0.9))
        return y.sum()

    eps = 1e-6
    numeric = [(loss(values + eps * e) - loss(values - eps * e)) / (2 * eps) for e in np.eye(4)]
    np.testing.assert_allclose(x.grad.numpy(), numeric, rtol=1e-5)


def test_number_operands_skip_tensor_handling():
    # The generated ops test inline for a plain float or int. That module also defines ops named float
    # and int, so a test against those names would send every number through the slow calls.
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    _, calls = _count_python_calls(lambda: x * 0.5 + 1, repeats=1)
    slow = {name: count for name, count in calls.items()
            if name.split(":")[1] in ("edge_maybe", "meta_of", "save_maybe", "scalar_arg")}
    # x itself takes edge_maybe and meta_of once in each of mul and add; the numbers take none.
    assert slow == {"_node.py:edge_maybe": 2, "_runtime.py:meta_of": 2}
