"""Custom differentiable operations: ``multigrad.autograd.Function``.

A subclass defines ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``
as static methods and is called through ``apply``. The ``ctx`` object is the
backward node itself, as in PyTorch; its class is named ``<Name>Backward``.
"""

from __future__ import annotations

import functools
from typing import Any

from .._grad_mode import GRAD_STATE, no_grad
from .._node import Node, SavedTensor, _sequence, edge_maybe, user_site
from .._runtime import LEAF_MESSAGE
from .._tensor import Tensor, _wrap

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """The state that ``forward`` passes to ``backward``: saved tensors and flags.

    ``ctx`` accepts other attributes too, for non-tensor values that
    backward needs (``ctx.dim = dim``).
    """

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Save tensors (inputs or outputs of forward) for backward, with a version check."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save tensors or None, but got {type(t).__name__}")
        self._to_save = tensors

    @property
    def saved_tensors(self) -> tuple:
        """The saved tensors; raises if one was modified in place since it was saved."""
        saved = getattr(self, "_saved", None)
        if saved is None:
            if hasattr(self, "_to_save"):
                return tuple(self._to_save)
            return ()
        return tuple(None if s is None else s.unpack(self) for s in saved)

    def mark_dirty(self, *tensors: Tensor) -> None:
        """Declare inputs that forward modified in place; they become outputs with this history."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Declare outputs that need no gradient, such as indices."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """Pass missing output gradients to backward as zeros (True, the default) or as None."""
        self._materialize_grads = bool(value)


class BackwardCFunction(Node, FunctionCtx):
    """The node of one call of a custom Function; it is also that call's ``ctx``."""

    _function: type = None
    # Non-empty so that the engine calls _release after backward.
    _saved_names = ("_saved",)

    def __init__(self) -> None:
        self._seq = next(_sequence)
        self._materialize_grads = True
        self.needs_input_grad = ()

    @property
    def num_outputs(self) -> int:
        return len(self._output_meta)

    def _release(self) -> None:
        for saved in getattr(self, "_saved", None) or ():
            if saved is not None:
                saved.release()

    def apply(self, grads: list) -> tuple:
        if self._materialize_grads:
            grads = [g if g is not None else _zeros(meta) for g, meta in zip(grads, self._output_meta)]
        result = self._function.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        expected = len(self.next_functions)
        if len(result) != expected:
            if len(result) > expected and all(r is None for r in result[expected:]):
                result = result[:expected]
            else:
                raise RuntimeError(
                    f"function {self.name()} returned an incorrect number of gradients (expected {expected}, got {len(result)})"
                )
        return tuple(self._check_gradient(i, g) for i, g in enumerate(result))

    def _check_gradient(self, index: int, grad):
        meta = self._input_meta[index]
        if grad is None:
            return None
        if meta is None:
            raise RuntimeError(
                f"function {self.name()} returned a gradient different than None at position {index + 1}, "
                "but the corresponding forward input was not a Variable"
            )
        if not isinstance(grad, Tensor):
            raise TypeError(f"function {self.name()} returned a {type(grad).__name__} as gradient {index}; expected a Tensor or None")
        shape, dtype = meta
        if grad._data.shape != shape:
            from .._formula_helpers import sum_to

            got = grad._data.shape
            try:
                grad = sum_to(grad, shape)
            except RuntimeError:
                grad = None
            if grad is None or grad._data.shape != shape:
                raise RuntimeError(
                    f"Function {self.name()} returned an invalid gradient at index {index} - got {list(got)} "
                    f"but expected shape compatible with {list(shape)}"
                )
        if grad._data.dtype != dtype:
            from .._dtype import FROM_NUMPY

            grad = grad.to(FROM_NUMPY[dtype])
        return grad


def _zeros(meta):
    shape, dtype, backend = meta
    return _wrap(backend.full(shape, 0, dtype), backend)


class Function:
    """Base class of custom differentiable operations.

    Example::

        class Exp(Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx, grad):
                (y,) = ctx.saved_tensors
                return grad * y

        y = Exp.apply(x)
    """

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls._backward_cls = type(f"{cls.__name__}Backward", (BackwardCFunction,), {"_function": cls})

    def __init__(self, *args, **kwargs) -> None:
        raise RuntimeError(
            "Function instances are not called directly; define forward and backward as static methods "
            f"and call {type(self).__name__}.apply(...)"
        )

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        """Compute the outputs from the inputs; runs without recording history."""
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple, output: Any) -> None:
        """Save what backward needs; define it to write ``forward(*args)`` without ``ctx`` (PyTorch 2 style)."""
        raise NotImplementedError("setup_context is not defined: forward takes ctx as its first argument")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        """Return one gradient per forward input (None for inputs that need none)."""
        raise NotImplementedError("You must implement either the backward or vjp method for your custom autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run ``forward`` and, when an input requires grad, record one node for the call."""
        if kwargs:
            raise TypeError(f"{cls.__name__}.apply() takes positional arguments only, got keywords {sorted(kwargs)}")
        ctx = cls._backward_cls()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        record = GRAD_STATE.enabled and any(ctx.needs_input_grad)

        with no_grad():
            if cls.setup_context is not Function.setup_context:
                # PyTorch 2 style: forward takes only the inputs, and setup_context fills ctx.
                outputs = cls.forward(*args)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args)
        single = not isinstance(outputs, tuple)
        outputs_tuple = (outputs,) if single else outputs

        if not record:
            ctx._saved = _save_all(ctx, outputs_tuple)
            return outputs

        ctx.next_functions = tuple(edge_maybe(a) for a in args)
        ctx._site = user_site(ctx)
        ctx._input_meta = tuple((a._data.shape, a._data.dtype) if isinstance(a, Tensor) else None for a in args)
        dirty = {id(t) for t in getattr(ctx, "_dirty", ())}
        non_differentiable = {id(t) for t in getattr(ctx, "_non_differentiable", ())}
        input_ids = {id(a) for a in args if isinstance(a, Tensor)}

        results = []
        meta = []
        for i, out in enumerate(outputs_tuple):
            if not isinstance(out, Tensor):
                results.append(out)
                meta.append(None)
                continue
            if id(out) in dirty:
                if out._requires_grad and out._grad_fn is None:
                    raise RuntimeError(LEAF_MESSAGE)
            elif id(out) in input_ids:
                # An input returned as it is becomes a new tensor sharing its data.
                alias = _wrap(out._data, out._backend)
                alias._version_counter = out._version_counter
                out = alias
            meta.append((out._data.shape, out._data.dtype, out._backend))
            if id(outputs_tuple[i]) in non_differentiable or out._data.dtype.kind != "f":
                results.append(out)
                continue
            out._grad_fn = ctx
            out._output_nr = i
            out._requires_grad = True
            results.append(out)
        ctx._output_meta = meta
        ctx._saved = _save_all(ctx, tuple(results), originals=outputs_tuple)
        return results[0] if single else tuple(results)


def _save_all(ctx, outputs: tuple, originals: tuple | None = None):
    to_save = getattr(ctx, "_to_save", None)
    if to_save is None:
        return None
    originals = originals or outputs
    saved = []
    for t in to_save:
        if t is None:
            saved.append(None)
            continue
        position = next((i for i, o in enumerate(originals) if o is t), None)
        if position is not None and isinstance(outputs[position], Tensor) and outputs[position]._grad_fn is ctx:
            saved.append(SavedTensor(outputs[position], is_output=True))
        else:
            saved.append(SavedTensor(t))
    del ctx._to_save
    return saved


class _DelayedError(Node):
    """A node standing for a backward that must not be differentiated again."""

    __slots__ = ("message",)

    def apply(self, grads):
        raise RuntimeError(self.message)


def once_differentiable(backward):
    """Decorate a Function's backward that cannot itself be differentiated.

    It runs without recording history; differentiating its results (under
    ``create_graph=True``) raises an error instead of giving wrong gradients.
    """

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        with no_grad():
            outputs = backward(ctx, *grads)
        if not GRAD_STATE.enabled or not any(isinstance(g, Tensor) and g._requires_grad for g in grads):
            return outputs
        single = not isinstance(outputs, tuple)
        wrapped = []
        for out in (outputs,) if single else outputs:
            if isinstance(out, Tensor) and out._data.dtype.kind == "f":
                node = _DelayedError()
                node._seq = next(_sequence)
                node.next_functions = tuple(edge_maybe(g) for g in grads)
                node.message = "trying to differentiate twice a function that was marked with @once_differentiable"
                out = _wrap(out._data, out._backend)
                out._grad_fn = node
                out._requires_grad = True
            wrapped.append(out)
        return wrapped[0] if single else tuple(wrapped)

    return wrapper
