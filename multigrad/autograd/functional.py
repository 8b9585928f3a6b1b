"""Higher-level differentiation of functions: vjp, jvp, jacobian, hessian, hvp, vhp.

Each takes ``func`` and its ``inputs`` (a Tensor or a tuple of Tensors) and,
like PyTorch's, returns plain results for a plain Tensor input and tuples for
tuple inputs. Forward-mode products (jvp) use the double-backward identity,
so they need every op on the path to support create_graph, as ours do.
"""

from __future__ import annotations

from .._creation import zeros_like
from .._engine import grad as _grad
from .._grad_mode import enable_grad
from .._tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(value, name: str, fn_name: str) -> tuple[bool, tuple]:
    if isinstance(value, Tensor):
        return False, (value,)
    if isinstance(value, (tuple, list)) and all(isinstance(v, Tensor) for v in value):
        return True, tuple(value)
    raise TypeError(f"The {name} given to {fn_name} must be either a Tensor or a tuple of Tensors but got {type(value).__name__}.")


def _prepare_inputs(inputs: tuple, create_graph: bool) -> tuple:
    # Fresh leaves, so that differentiation never reaches the caller's graph unless create_graph is set.
    if create_graph:
        return tuple(x if x._requires_grad else x.detach().requires_grad_(x.is_floating_point()) for x in inputs)
    return tuple(x.detach().requires_grad_(x.is_floating_point()) for x in inputs)


def _fill_unused(grads: tuple, like: tuple, strict: bool, fn_name: str) -> tuple:
    result = []
    for i, (g, x) in enumerate(zip(grads, like)):
        if g is None:
            if strict:
                raise RuntimeError(f"{fn_name}: the output of the user-provided function is independent of input {i}. This is not allowed in strict mode.")
            g = zeros_like(x)
        result.append(g)
    return tuple(result)


def _check_v(v, outputs: tuple, fn_name: str) -> tuple:
    if v is None:
        if len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function returns a single Tensor with a single element.")
        return (None,)
    _, v = _as_tuple(v, "v", fn_name)
    if len(v) != len(outputs):
        raise RuntimeError(f"v has {len(v)} Tensors but the function returned {len(outputs)} outputs; give one v per output")
    for i, (vi, out) in enumerate(zip(v, outputs)):
        if vi.shape != out.shape:
            raise RuntimeError(f"Mismatch in shape: v[{i}] has a shape of {vi.shape!r} and output[{i}] has a shape of {out.shape!r}.")
    return v


def _result(value: tuple, is_tuple: bool):
    return value if is_tuple else value[0]


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Return ``(func(inputs), v^T J)``: the vector-Jacobian product at ``inputs``."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
    with enable_grad():
        xs = _prepare_inputs(inputs, create_graph)
        raw = func(*xs)
        outputs_tuple, outputs = _as_tuple(raw, "outputs of the user-provided function", "vjp")
        v = _check_v(v, outputs, "vjp")
        differentiable = [(o, g) for o, g in zip(outputs, v) if o._requires_grad]
        if differentiable:
            grads = _grad([o for o, _ in differentiable], xs, [g for _, g in differentiable],
                          create_graph=create_graph, allow_unused=True)
        else:
            grads = (None,) * len(xs)
    grads = _fill_unused(grads, xs, strict, "vjp")
    outputs = tuple(o if create_graph else o.detach() for o in outputs)
    return _result(outputs, outputs_tuple), _result(grads, inputs_tuple)


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Return ``(func(inputs), J v)``: the Jacobian-vector product at ``inputs``."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
    if v is None:
        if len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a single Tensor with a single element.")
        v = (None,)
    else:
        _, v = _as_tuple(v, "v", "jvp")
    with enable_grad():
        xs = _prepare_inputs(inputs, create_graph)
        raw = func(*xs)
        outputs_tuple, outputs = _as_tuple(raw, "outputs of the user-provided function", "jvp")
        # J v = d/du (u^T J) v, with u a dummy cotangent of each output.
        dummies = tuple(zeros_like(o).requires_grad_(True) for o in outputs)
        vjps = _grad(outputs, xs, dummies, create_graph=True, allow_unused=True)
        pairs = [(g, vi if vi is not None else g.detach() * 0 + 1) for g, vi in zip(vjps, v) if g is not None]
        if pairs:
            products = _grad([g for g, _ in pairs], dummies, [vi for _, vi in pairs],
                             create_graph=create_graph, allow_unused=True)
        else:
            products = (None,) * len(outputs)
    products = _fill_unused(products, outputs, strict, "jvp")
    outputs = tuple(o if create_graph else o.detach() for o in outputs)
    return _result(outputs, outputs_tuple), _result(products, outputs_tuple)


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode"):
    """Return the Jacobian of ``func`` at ``inputs``; each block has shape ``output.shape + input.shape``."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f'Expected strategy to be either "forward-mode" or "reverse-mode", got {strategy!r}')
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    with enable_grad():
        xs = _prepare_inputs(inputs, create_graph)
        raw = func(*xs)
        outputs_tuple, outputs = _as_tuple(raw, "outputs of the user-provided function", "jacobian")
        blocks = []
        for out in outputs:
            flat = out.reshape(-1)
            rows = [[] for _ in xs]
            for k in range(flat.numel()):
                if flat._requires_grad:
                    grads = _grad(flat[k], xs, retain_graph=True, create_graph=create_graph, allow_unused=True)
                else:
                    grads = (None,) * len(xs)
                grads = _fill_unused(grads, xs, strict, "jacobian")
                for i, g in enumerate(grads):
                    rows[i].append(g.reshape(-1))
            row_blocks = []
            for i, x in enumerate(xs):
                from .._generated._ops import stack

                if rows[i]:
                    block = stack(rows[i]).reshape(tuple(out.shape) + tuple(x.shape))
                else:
                    block = zeros_like(x).reshape(-1)[:0].reshape(tuple(out.shape) + tuple(x.shape))
                row_blocks.append(block if create_graph else block.detach())
            blocks.append(tuple(row_blocks))
    if outputs_tuple and inputs_tuple:
        return tuple(blocks)
    if outputs_tuple:
        return tuple(b[0] for b in blocks)
    if inputs_tuple:
        return blocks[0]
    return blocks[0][0]


def hessian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode"):
    """Return the Hessian of a scalar function ``func`` at ``inputs``."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs):
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor with a single element")
        grads = _grad(out.reshape(()), xs, create_graph=True, allow_unused=True)
        return _fill_unused(grads, xs, strict, "hessian")

    result = jacobian(gradient, inputs if inputs_tuple else inputs[0], create_graph=create_graph, strict=strict)
    if inputs_tuple:
        return result
    # gradient() returns a tuple, so jacobian gives a tuple with one block per input: unwrap it.
    return result[0] if isinstance(result, tuple) else result


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Return ``(func(inputs), H v)`` for a scalar function: the Hessian-vector product."""
    return _second_order_product(func, inputs, v, create_graph, strict, "hvp")


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Return ``(func(inputs), v^T H)``; equal to hvp for the symmetric Hessians of smooth functions."""
    return _second_order_product(func, inputs, v, create_graph, strict, "vhp")


def _second_order_product(func, inputs, v, create_graph: bool, strict: bool, fn_name: str):
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    if v is None:
        if len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a single Tensor with a single element.")
        v = tuple(zeros_like(x) + 1 for x in inputs)
    else:
        _, v = _as_tuple(v, "v", fn_name)
    with enable_grad():
        xs = _prepare_inputs(inputs, create_graph)
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError(f"The function given to {fn_name} should return a single Tensor with a single element")
        grads = _grad(out.reshape(()), xs, create_graph=True, allow_unused=True)
        used = [(g, vi) for g, vi in zip(grads, v) if g is not None and g._requires_grad]
        if used:
            products = _grad([g for g, _ in used], xs, [vi for _, vi in used], create_graph=create_graph, allow_unused=True)
        else:
            products = (None,) * len(xs)
    products = _fill_unused(products, xs, strict, fn_name)
    return (out if create_graph else out.detach()), _result(products, inputs_tuple)
