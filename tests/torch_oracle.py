"""Run one expression in multigrad and in PyTorch and compare values and input gradients.

The op tests build inputs as NumPy arrays, call :func:`compare` with the same
function for both libraries (most multigrad ops share PyTorch's names), and get
a failure that names the dtype and what differed.
"""

from __future__ import annotations

import numpy as np

import multigrad as mg

TOLERANCES = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-9, atol=1e-10)}


def random_array(shape, low=-2.0, high=2.0, seed=0):
    """Return float64 values uniform in [low, high) of ``shape``, the same on every run."""
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def _to_pair(value, torch, dtype_name, requires_grad):
    """Return (multigrad value, torch value) for one argument; float arrays take ``dtype_name``."""
    if isinstance(value, np.ndarray):
        array = value.astype(dtype_name) if value.dtype.kind == "f" else value
        needs = requires_grad and array.dtype.kind == "f"
        return (mg.tensor(array, requires_grad=needs), torch.tensor(array, requires_grad=needs))
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, np.ndarray) for v in value):
        pairs = [_to_pair(v, torch, dtype_name, requires_grad) for v in value]
        return ([p[0] for p in pairs], [p[1] for p in pairs])
    return value, value


def _outputs(result):
    if isinstance(result, (tuple, list)):
        return list(result)
    return [result]


def _leaves(values):
    out = []
    for v in values:
        if isinstance(v, list):
            out.extend(v)
        else:
            out.append(v)
    return out


def compare(torch, fn, *args, torch_fn=None, dtypes=("float32", "float64"), grad=True, kwargs=None, **tol):
    """Check ``fn(*args)`` in multigrad against ``torch_fn`` (default: ``fn``) on PyTorch tensors.

    NumPy arrays among ``args`` (or lists of them) become tensors of each dtype
    in ``dtypes``; floating ones require grad when ``grad``. The outputs must
    match, and so must the input gradients of sum(output * weights) for random
    weights over every floating output.
    """
    torch_fn = torch_fn or fn
    kwargs = kwargs or {}
    for dtype_name in dtypes:
        tolerance = dict(TOLERANCES[dtype_name], **tol)
        pairs = [_to_pair(a, torch, dtype_name, grad) for a in args]
        mine_args = [p[0] for p in pairs]
        theirs_args = [p[1] for p in pairs]
        mine = _outputs(fn(*mine_args, **kwargs))
        theirs = _outputs(torch_fn(*theirs_args, **kwargs))
        assert len(mine) == len(theirs), f"{dtype_name}: {len(mine)} outputs, PyTorch gives {len(theirs)}"
        for i, (m, t) in enumerate(zip(mine, theirs)):
            expected = t.detach().numpy()
            assert tuple(m.shape) == tuple(expected.shape), f"{dtype_name}: output {i} shape {tuple(m.shape)}, PyTorch {expected.shape}"
            assert str(m.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], f"{dtype_name}: output {i} dtype {m.dtype}, PyTorch {t.dtype}"
            # An integer input may give a float32 result under the float64 run: compare at its precision.
            output_tolerance = dict(TOLERANCES.get(str(expected.dtype), tolerance), **tol)
            np.testing.assert_allclose(m.detach().numpy(), expected, err_msg=f"{dtype_name}: output {i}", **output_tolerance)
        if not grad:
            continue

        mine_leaves = [v for v in _leaves(mine_args) if isinstance(v, mg.Tensor) and v.requires_grad]
        theirs_leaves = [v for v in _leaves(theirs_args) if isinstance(v, torch.Tensor) and v.requires_grad]
        mine_total, theirs_total = 0, 0
        for i, (m, t) in enumerate(zip(mine, theirs)):
            if not t.requires_grad:
                continue
            weights = random_array(tuple(t.shape), seed=100 + i).astype(dtype_name)
            mine_total = mine_total + (m * mg.tensor(weights)).sum()
            theirs_total = theirs_total + (t * torch.tensor(weights)).sum()
        if not isinstance(theirs_total, torch.Tensor):
            continue
        theirs_grads = torch.autograd.grad(theirs_total, theirs_leaves, allow_unused=True)
        mine_grads = mg.autograd.grad(mine_total, mine_leaves, allow_unused=True)
        for i, (m, t) in enumerate(zip(mine_grads, theirs_grads)):
            if t is None:
                assert m is None or not m.detach().numpy().any(), f"{dtype_name}: input {i} has a gradient, PyTorch has none"
                continue
            assert m is not None, f"{dtype_name}: input {i} has no gradient, PyTorch has one"
            np.testing.assert_allclose(m.detach().numpy(), t.numpy(), err_msg=f"{dtype_name}: gradient of input {i}", **tolerance)
