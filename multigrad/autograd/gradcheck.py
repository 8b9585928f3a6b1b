"""Numerical gradient checks: ``gradcheck`` and ``gradgradcheck``.

Both compare the analytical Jacobian, which backward computes one output
element at a time with a one-hot ``grad_outputs``, against central
differences ``(f(x + eps) - f(x - eps)) / (2 * eps)`` taken one input element
at a time. Central differences are only accurate in float64, so inputs of
another dtype draw a warning.

Jacobians follow PyTorch's layout: for input ``i`` and output ``k`` the
matrix has one row per element of the input and one column per element of
the output, both in row-major order.
"""

from __future__ import annotations

import warnings
from typing import Callable, Sequence

import numpy as np

from .._creation import tensor as _make_tensor
from .._engine import grad as _grad
from .._tensor import Tensor

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


class GradcheckError(RuntimeError):
    """Raised by :func:`gradcheck` and :func:`gradgradcheck` when the gradients are wrong."""


def gradcheck(
    func: Callable[..., "Tensor | Sequence[Tensor]"],
    inputs: "Tensor | Sequence",
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_grad_dtypes: bool = False,
) -> bool:
    """Check the gradients of ``func`` at ``inputs`` against central differences.

    Args:
        func: called as ``func(*inputs)``; returns a Tensor or a sequence of Tensors.
            Outputs that are not floating point are not differentiable and are skipped.
        inputs: a Tensor or a sequence of arguments. Tensors with ``requires_grad``
            are checked; other arguments are passed through unchanged.
        eps: the perturbation of central differences.
        atol, rtol: an analytical entry ``a`` passes when
            ``|a - n| <= atol + rtol * |n|`` for the numerical entry ``n``.
        raise_exception: raise :class:`GradcheckError` on a mismatch (the default),
            or return False instead.
        nondet_tol: how far two backward passes over the same graph may differ;
            0 requires them to agree exactly.
        check_grad_dtypes: also require each gradient to have its input's dtype.

    Returns:
        True when every check passes; False on a failure when ``raise_exception`` is False.

    Raises:
        GradcheckError: on a mismatch, with both Jacobians and the input index,
            output index and element that disagree.
        ValueError: when no input tensor requires grad.
    """
    inputs = _as_input_tuple(inputs)
    labels = [f"input {i}" for i in range(len(inputs))]
    return _run_checks(func, inputs, labels, eps, atol, rtol, raise_exception, nondet_tol, check_grad_dtypes)


def gradgradcheck(
    func: Callable[..., "Tensor | Sequence[Tensor]"],
    inputs: "Tensor | Sequence",
    grad_outputs: "Tensor | Sequence[Tensor] | None" = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_grad_dtypes: bool = False,
    seed: int = 0,
) -> bool:
    """Check the second derivatives of ``func``: gradcheck of its backward, recorded with ``create_graph=True``.

    The checked function maps ``(*inputs, *grad_outputs)`` to the gradients of
    ``func``'s differentiable outputs with respect to the inputs that require
    grad, so both the double backward of every op and its linearity in
    ``grad_outputs`` are checked.

    Args:
        grad_outputs: one Tensor per differentiable output of ``func`` (floating
            point and requiring grad), or None to draw them uniformly from
            [-1, 1) with ``seed``. They must require grad to be checked.
        seed: the seed of the drawn ``grad_outputs``.
        The other arguments are those of :func:`gradcheck`.

    Returns:
        True when every check passes; False on a failure when ``raise_exception`` is False.
    """
    inputs = _as_input_tuple(inputs)
    outputs = _as_output_tuple(func(*inputs))
    differentiable = [k for k, out in enumerate(outputs) if _is_differentiable(out)]

    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = tuple(
            _make_tensor(rng.uniform(-1.0, 1.0, size=tuple(outputs[k].shape)), dtype=outputs[k].dtype,
                         device=outputs[k].device, requires_grad=True)
            for k in differentiable
        )
    else:
        grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
        if len(grad_outputs) != len(differentiable):
            raise ValueError(
                f"gradgradcheck: got {len(grad_outputs)} grad_outputs, but func has {len(differentiable)} "
                f"differentiable outputs (floating point and requiring grad)"
            )
    count = len(inputs)

    def first_derivatives(*args):
        ins, gos = args[:count], args[count:]
        outs = _as_output_tuple(func(*ins))
        wrt = [x for x in ins if isinstance(x, Tensor) and x.requires_grad]
        roots = [outs[k] for k in differentiable]
        if not roots:
            return tuple(_zeros_like(x) for x in wrt)
        return _grad(roots, wrt, list(gos), create_graph=True, allow_unused=True, materialize_grads=True)

    labels = [f"input {i}" for i in range(count)] + [f"grad_output {k}" for k in range(len(grad_outputs))]
    return _run_checks(first_derivatives, inputs + grad_outputs, labels, eps, atol, rtol, raise_exception,
                       nondet_tol, check_grad_dtypes)


# -- the checks ----------------------------------------------------------------


def _run_checks(func, inputs: tuple, labels: list, eps, atol, rtol, raise_exception, nondet_tol,
                check_grad_dtypes) -> bool:
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor to require grad; none of them has requires_grad=True")
    for i in wrt:
        if inputs[i].dtype.name != "float64":
            warnings.warn(
                f"{labels[i]} requires grad and is {inputs[i].dtype.name}, not float64: central differences in "
                f"lower precision usually miss the tolerances of gradcheck. Pass float64 inputs.",
                UserWarning,
                stacklevel=3,
            )

    try:
        outputs = _as_output_tuple(func(*inputs))
        analytical = _analytical_jacobians(inputs, wrt, outputs, labels, check_grad_dtypes)
        again = _analytical_jacobians(inputs, wrt, _as_output_tuple(func(*inputs)), labels, check_grad_dtypes)
        _check_reentrant(analytical, again, wrt, labels, nondet_tol)
        numerical = _numerical_jacobians(func, inputs, wrt, outputs, eps)
        _compare(analytical, numerical, inputs, outputs, labels, atol, rtol)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _analytical_jacobians(inputs: tuple, wrt: list, outputs: tuple, labels: list, check_grad_dtypes: bool) -> dict:
    """Return ``{(i, k): Jacobian}`` from backward, one column per output element."""
    jacobians = {}
    for k, out in enumerate(outputs):
        if not _is_floating(out):
            continue
        for i in wrt:
            jacobians[i, k] = np.zeros((inputs[i].numel(), out.numel()))
        if not out.requires_grad:
            continue

        targets = [inputs[i] for i in wrt]
        for m in range(out.numel()):
            one_hot = np.zeros(out.numel())
            one_hot[m] = 1.0
            grad_output = _make_tensor(one_hot.reshape(tuple(out.shape)), dtype=out.dtype, device=out.device)
            grads = _grad(out, targets, grad_output, retain_graph=True, allow_unused=True)
            for i, g in zip(wrt, grads):
                if g is None:
                    continue
                _check_grad_meta(g, inputs[i], labels[i], check_grad_dtypes)
                jacobians[i, k][:, m] = _to_float64(g).reshape(-1)
    return jacobians


def _check_grad_meta(g: Tensor, x: Tensor, label: str, check_grad_dtypes: bool) -> None:
    if tuple(g.shape) != tuple(x.shape):
        raise GradcheckError(f"the gradient for {label} has shape {list(g.shape)}, but the input has shape {list(x.shape)}")
    if check_grad_dtypes and g.dtype is not x.dtype:
        raise GradcheckError(f"the gradient for {label} has dtype {g.dtype}, but the input has dtype {x.dtype}")
    if g.device != x.device:
        raise GradcheckError(f"the gradient for {label} is on device {g.device}, but the input is on {x.device}")


def _check_reentrant(first: dict, second: dict, wrt: list, labels: list, nondet_tol: float) -> None:
    for (i, k), jacobian in first.items():
        difference = np.max(np.abs(jacobian - second[i, k]), initial=0.0)
        if difference > nondet_tol:
            raise GradcheckError(
                f"backward is not reentrant: two backward passes for output {k} with respect to {labels[i]} "
                f"differ by up to {difference:.6g}, more than nondet_tol={nondet_tol}. Raise nondet_tol if "
                f"the backward is nondeterministic by design."
            )


def _numerical_jacobians(func, inputs: tuple, wrt: list, outputs: tuple, eps: float) -> dict:
    """Return ``{(i, k): Jacobian}`` from central differences, one row per input element."""
    floating = [k for k, out in enumerate(outputs) if _is_floating(out)]
    jacobians = {}
    for i in wrt:
        x = inputs[i]
        base = _to_numpy_copy(x)
        flat = base.reshape(-1)
        for k in floating:
            jacobians[i, k] = np.zeros((x.numel(), outputs[k].numel()))
        for j in range(flat.size):
            original = flat[j]
            flat[j] = original + eps
            plus = _evaluate_floating(func, inputs, i, base, floating)
            flat[j] = original - eps
            minus = _evaluate_floating(func, inputs, i, base, floating)
            flat[j] = original
            for k in floating:
                jacobians[i, k][j, :] = ((plus[k] - minus[k]) / (2 * eps)).reshape(-1)
    return jacobians


def _evaluate_floating(func, inputs: tuple, position: int, values: np.ndarray, floating: list) -> dict:
    """Call ``func`` with input ``position`` replaced by a fresh tensor of ``values``."""
    x = inputs[position]
    replaced = _make_tensor(values, dtype=x.dtype, device=x.device, requires_grad=x.requires_grad)
    args = inputs[:position] + (replaced,) + inputs[position + 1:]
    outputs = _as_output_tuple(func(*args))
    return {k: _to_float64(outputs[k]) for k in floating}


def _compare(analytical: dict, numerical: dict, inputs: tuple, outputs: tuple, labels: list, atol, rtol) -> None:
    for (i, k), a in analytical.items():
        n = numerical[i, k]
        bad = np.abs(a - n) > atol + rtol * np.abs(n)
        if not bad.any():
            continue
        row, column = np.argwhere(bad)[0]
        in_element = _element(row, tuple(inputs[i].shape))
        out_element = _element(column, tuple(outputs[k].shape))
        raise GradcheckError(
            f"Jacobian mismatch for output {k} with respect to {labels[i]}: at {labels[i]} element {in_element} "
            f"and output element {out_element} the numerical derivative is {float(n[row, column])!r} but the analytical "
            f"one is {float(a[row, column])!r} (atol={atol}, rtol={rtol}; {int(bad.sum())} of {bad.size} entries differ). "
            f"Rows are {labels[i]} elements, columns output elements.\n"
            f"numerical:\n{_format(n)}\nanalytical:\n{_format(a)}"
        )


# -- small helpers --------------------------------------------------------------

def _element(flat_index: int, shape: tuple) -> tuple:
    if not shape:
        return ()
    return tuple(int(v) for v in np.unravel_index(int(flat_index), shape))


def _format(matrix: np.ndarray) -> str:
    with np.printoptions(precision=6, suppress=True, linewidth=120, threshold=400):
        return np.array2string(matrix)


def _as_input_tuple(inputs) -> tuple:
    if isinstance(inputs, Tensor):
        return (inputs,)
    if isinstance(inputs, (list, tuple)):
        return tuple(inputs)
    raise TypeError(f"gradcheck: inputs must be a Tensor or a sequence, got {type(inputs).__name__}")


def _as_output_tuple(outputs) -> tuple:
    if isinstance(outputs, Tensor):
        return (outputs,)
    if isinstance(outputs, (list, tuple)) and all(isinstance(o, Tensor) for o in outputs):
        return tuple(outputs)
    raise TypeError(f"gradcheck: func must return a Tensor or a sequence of Tensors, got {type(outputs).__name__}")


def _is_floating(t: Tensor) -> bool:
    return t.dtype.is_floating_point


def _is_differentiable(t: Tensor) -> bool:
    return t.dtype.is_floating_point and t.requires_grad


def _to_numpy_copy(t: Tensor) -> np.ndarray:
    return np.array(t.detach().numpy(), copy=True)


def _to_float64(t: Tensor) -> np.ndarray:
    return np.asarray(t.detach().numpy(), dtype=np.float64)


def _zeros_like(t: Tensor) -> Tensor:
    return _make_tensor(np.zeros(tuple(t.shape)), dtype=t.dtype, device=t.device)
