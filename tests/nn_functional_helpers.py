"""Run one nn functional call in multigrad and in PyTorch and compare values and input gradients."""

from __future__ import annotations

import numpy as np

import multigrad as mg

TOLERANCES = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-7, atol=1e-9)}


def to_pair(torch, value, dtype, requires_grad):
    """Return (multigrad, torch) versions of an argument: float arrays take ``dtype``, int arrays stay int64."""
    if not isinstance(value, np.ndarray):
        return value, value
    if value.dtype.kind == "f":
        array = value.astype(dtype)
        grad = requires_grad
    else:
        array, grad = value, False
    return (
        mg.tensor(array, requires_grad=grad),
        torch.tensor(array, requires_grad=grad),
    )


def compare(torch, mg_fn, torch_fn, args, dtype="float64", kwargs=None, grad=True, seed=0, constant=()):
    """Call both functions on ``args`` (NumPy arrays become tensors) and check outputs and input gradients.

    Float arrays require grad, except the args at the positions in ``constant``.
    """
    kwargs = kwargs or {}
    pairs = [to_pair(torch, a, dtype, grad and i not in constant) for i, a in enumerate(args)]
    kw_pairs = {k: to_pair(torch, v, dtype, grad) for k, v in kwargs.items()}
    ours = mg_fn(*[p[0] for p in pairs], **{k: v[0] for k, v in kw_pairs.items()})
    theirs = torch_fn(*[p[1] for p in pairs], **{k: v[1] for k, v in kw_pairs.items()})
    tol = TOLERANCES[dtype]
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), **tol)
    if not grad or not theirs.requires_grad:
        return ours, theirs

    rng = np.random.default_rng(seed)
    grad_out = rng.standard_normal(tuple(theirs.shape)).astype(dtype)
    ours.backward(mg.tensor(grad_out))
    theirs.backward(torch.tensor(grad_out))
    leaves = [p for p in pairs] + list(kw_pairs.values())
    for mine, reference in leaves:
        if isinstance(reference, torch.Tensor) and reference.requires_grad:
            if reference.grad is None:
                assert mine.grad is None
                continue
            assert mine.grad is not None
            np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), **tol)
    return ours, theirs


def compare_double_backward(torch, mg_fn, torch_fn, args, seed=0):
    """Check the gradient of sum(grad_inputs * v) with respect to the inputs, in float64."""
    rng = np.random.default_rng(seed)
    pairs = [to_pair(torch, a, "float64", True) for a in args]
    ours = mg_fn(*[p[0] for p in pairs])
    theirs = torch_fn(*[p[1] for p in pairs])
    grad_out = rng.standard_normal(tuple(theirs.shape))
    inputs = [(m, t) for m, t in pairs if isinstance(t, torch.Tensor) and t.requires_grad]
    first_mg = mg.autograd.grad(ours, [m for m, _ in inputs], mg.tensor(grad_out, requires_grad=True),
                                create_graph=True)
    first_torch = torch.autograd.grad(theirs, [t for _, t in inputs], torch.tensor(grad_out, requires_grad=True),
                                      create_graph=True)
    weights = [rng.standard_normal(tuple(g.shape)) for g in first_torch]
    total_mg = sum((g * mg.tensor(w)).sum() for g, w in zip(first_mg, weights))
    total_torch = sum((g * torch.tensor(w)).sum() for g, w in zip(first_torch, weights))
    second_mg = mg.autograd.grad(total_mg, [m for m, _ in inputs], allow_unused=True)
    second_torch = torch.autograd.grad(total_torch, [t for _, t in inputs], allow_unused=True)
    for mine, reference in zip(second_mg, second_torch):
        if reference is None:
            assert mine is None or np.allclose(mine.numpy(), 0)
            continue
        np.testing.assert_allclose(mine.numpy(), reference.numpy(), rtol=1e-7, atol=1e-9)
