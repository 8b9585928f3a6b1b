"""Nodes of the backward graph, saved tensors, and hook handles."""

from __future__ import annotations

import itertools
import linecache
import os
import sys
import threading
import weakref
from typing import Any, Callable

from . import _dtype
from ._tensor import Tensor, _wrap

_sequence = itertools.count()

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_getframe = sys._getframe
_internal_codes: dict = {}

#: Package files whose code plays the user's part (the demo), so error messages point into them.
USER_CODE_FILES = {_PACKAGE_DIR + "_cli_walkthrough.py"}


class _AnomalyState:
    """Anomaly mode settings (process-wide, as PyTorch's)."""

    enabled = False
    check_nan = True


ANOMALY = _AnomalyState()

#: Forward tracebacks of nodes created in anomaly mode.
ANOMALY_TRACES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def user_site(node=None):
    """Return ``(code, line)`` of the innermost caller outside multigrad, for error messages.

    Only the code object and the line are kept, never the frame, so recording
    a site keeps no local variables alive. In anomaly mode the whole forward
    traceback of ``node`` is recorded too.
    """
    # Every caller is multigrad's own code, so the walk starts at the caller's caller.
    try:
        frame = _getframe(2)
    except ValueError:
        return None
    while frame is not None:
        code = frame.f_code
        internal = _internal_codes.get(code)
        if internal is None:
            filename = code.co_filename
            internal = filename.startswith(_PACKAGE_DIR) and filename not in USER_CODE_FILES
            _internal_codes[code] = internal
        if not internal:
            if ANOMALY.enabled and node is not None:
                import traceback

                ANOMALY_TRACES[node] = traceback.format_stack(frame)
            return (code, frame.f_lineno)
        frame = frame.f_back
    return None


def describe_site(site) -> str:
    """Return ``file:line (`source`)`` for a site from :func:`user_site`."""
    if site is None:
        return "an unknown location"
    code, line = site
    source = linecache.getline(code.co_filename, line).strip()
    return f"{code.co_filename}:{line}" + (f" (`{source}`)" if source else "")

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
    "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time "
    "or if you need to access saved tensors after calling backward."
)


class RemovableHandle:
    """A handle returned by hook registration; ``remove()`` unregisters the hook."""

    __slots__ = ("_hooks_ref", "id")
    _next_id = itertools.count()

    def __init__(self, hooks: dict, hook: Callable) -> None:
        self.id = next(RemovableHandle._next_id)
        hooks[self.id] = hook
        self._hooks_ref = weakref.ref(hooks) if hasattr(hooks, "__weakref__") else (lambda hooks=hooks: hooks)

    def remove(self) -> None:
        """Unregister the hook; calling it again does nothing."""
        hooks = self._hooks_ref()
        if hooks is not None:
            hooks.pop(self.id, None)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc_info) -> None:
        self.remove()


class _HookState:
    """Hooks attached to one node; created only when a hook is registered."""

    __slots__ = ("tensor_pre_hooks", "retain_grad", "pre_hooks", "post_hooks")

    def __init__(self) -> None:
        self.tensor_pre_hooks: dict[int, dict] = {}
        self.retain_grad: dict[int, weakref.ref] = {}
        self.pre_hooks: dict = {}
        self.post_hooks: dict = {}


#: Hook state of the nodes that have hooks; nodes without hooks pay nothing for them.
HOOK_STATES: "weakref.WeakKeyDictionary[Node, _HookState]" = weakref.WeakKeyDictionary()


class Node:
    """A step of the backward graph: maps gradients of its outputs to gradients of its inputs.

    ``next_functions`` has one ``(node, input_nr)`` pair per input of the
    forward op, and ``(None, 0)`` for an input that needs no gradient.
    """

    __slots__ = ("next_functions", "_seq", "_site", "__weakref__")

    #: How many outputs the forward op had.
    num_outputs = 1

    def name(self) -> str:
        """Return the node's class name, such as ``MulBackward0``."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    def apply(self, grads: list) -> tuple:
        """Return the input gradients for output gradients ``grads`` (one entry per output)."""
        raise NotImplementedError

    #: Names of the slots that hold SavedTensors, released after backward.
    _saved_names: tuple = ()

    #: ``apply_arrays(b, grad_data)``: the backward on backend arrays, for when nothing is recorded.
    #: Generated nodes whose formulas all lower to kernels define it; it returns one array (or None)
    #: per input, like ``apply`` does tensors.
    apply_arrays = None

    def _release(self) -> None:
        """Free the tensors the node saved for backward; unpacking them later raises."""
        for name in self._saved_names:
            saved = getattr(self, name, None)
            if saved.__class__ is SavedTensor:
                saved.release()

    # -- hooks -------------------------------------------------------------

    def _hooks(self) -> _HookState:
        state = HOOK_STATES.get(self)
        if state is None:
            state = HOOK_STATES[self] = _HookState()
        return state

    def _tensor_pre_hooks_for(self, output_nr: int) -> dict:
        return self._hooks().tensor_pre_hooks.setdefault(output_nr, {})

    def _add_retain_grad(self, output_nr: int, tensor_ref: weakref.ref) -> None:
        self._hooks().retain_grad[output_nr] = tensor_ref

    def register_hook(self, hook: Callable[[tuple, tuple], Any]) -> RemovableHandle:
        """Register ``hook(grad_inputs, grad_outputs)`` to run after this node.

        A tuple returned by the hook replaces ``grad_inputs``.
        """
        return RemovableHandle(self._hooks().post_hooks, hook)

    def register_prehook(self, hook: Callable[[tuple], Any]) -> RemovableHandle:
        """Register ``hook(grad_outputs)`` to run before this node; a returned tuple replaces them."""
        return RemovableHandle(self._hooks().pre_hooks, hook)


class AccumulateGrad(Node):
    """The node that adds incoming gradients into a leaf's ``.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable) -> None:
        self.next_functions = ()
        self._seq = next(_sequence)
        self.variable = variable

    def apply(self, grads: list) -> tuple:
        _engine.accumulate_into_leaf(self.variable, grads[0])
        return ()


def grad_accumulator(t) -> AccumulateGrad:
    """Return the leaf's AccumulateGrad node, shared by every graph that reads the leaf."""
    ref = getattr(t, "_grad_accumulator", None)
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(t)
        t._grad_accumulator = weakref.ref(node)
    return node


def edge(t) -> tuple:
    """Return the ``(node, input_nr)`` pair through which gradient flows into ``t``."""
    if t._base is not None and t._view_version != t._version_counter[0]:
        _views.refresh_view(t)  # the base changed in place since this view's history was made
    grad_fn = t._grad_fn
    if grad_fn is not None:
        return (grad_fn, t._output_nr)
    if t._requires_grad:
        return (grad_accumulator(t), 0)
    return (None, 0)


NO_EDGE = (None, 0)


def edge_maybe(value) -> tuple:
    """Return the edge of a Tensor, or ``(None, 0)`` for a Python scalar or None."""
    if value.__class__ is not Tensor and not isinstance(value, Tensor):
        return NO_EDGE
    if value._base is not None and value._view_version != value._version_counter[0]:
        _views.refresh_view(value)
    grad_fn = value._grad_fn
    if grad_fn is not None:
        return (grad_fn, value._output_nr)
    if value._requires_grad:
        return (grad_accumulator(value), 0)
    return NO_EDGE


def describe_tensor(data_shape, dtype_np) -> str:
    d = _dtype.FROM_NUMPY[dtype_np]
    return f"[multigrad.{_dtype.TYPE_NAMES[d]} [{', '.join(str(s) for s in data_shape)}]]"


class _SavedTensorHooks(threading.local):
    """The stack of (pack, unpack) hooks of this thread."""

    #: How many pushes are active in all threads together: saving reads the thread's stack only when
    #: some thread has hooks, because reading a thread-local attribute costs more than a class attribute.
    active = 0

    def __init__(self) -> None:
        self.stack: list = []

    def push(self, pack, unpack) -> None:
        self.stack.append((pack, unpack))
        with _ACTIVE_LOCK:
            _SavedTensorHooks.active += 1

    def pop(self) -> None:
        self.stack.pop()
        with _ACTIVE_LOCK:
            _SavedTensorHooks.active -= 1


_ACTIVE_LOCK = threading.Lock()
SAVED_TENSOR_HOOKS = _SavedTensorHooks()


class SavedTensor:
    """A tensor saved for backward, with the version it had when saved.

    An input is kept as the tensor itself. An output of the saving node is kept
    as its data and version counter only, and rebuilt on unpack with the node as
    its ``grad_fn``, so the node and its output do not reference each other.
    """

    __slots__ = ("tensor", "version", "data", "backend", "counter", "output_nr", "requires_grad", "grad_fn", "unpack_hook")

    def __init__(self, t, is_output: bool = False) -> None:
        self.version = t._version_counter[0]
        self.unpack_hook = None
        if _SavedTensorHooks.active and SAVED_TENSOR_HOOKS.stack:
            pack, self.unpack_hook = SAVED_TENSOR_HOOKS.stack[-1]
            self.tensor = None
            self.data = pack(t)
            self.counter = t._version_counter
            return
        if is_output:
            self.tensor = None
            self.data = t._data
            self.backend = t._backend
            self.counter = t._version_counter
            self.output_nr = t._output_nr
            self.requires_grad = t._requires_grad
        else:
            self.tensor = t
            self.counter = t._version_counter
            self.grad_fn = t._grad_fn  # for the error message, in case t's history is rebased later

    def unpack(self, node: Node):
        """Return the saved tensor, checking it was not modified in place since it was saved."""
        counter = self.counter
        if counter is None:
            raise RuntimeError(FREED_MESSAGE)
        if self.unpack_hook is not None:
            return self.unpack_hook(self.data)
        if counter[0] != self.version:
            self._raise_modified(node)
        t = self.tensor
        if t is not None:
            return t
        t = _wrap(self.data, self.backend)
        t._version_counter = counter
        if self.requires_grad:
            t._requires_grad = True
            t._grad_fn = node
            t._output_nr = self.output_nr
        return t

    def unpack_data(self, node: Node):
        """Return the saved tensor's backend array, with the checks of :meth:`unpack`."""
        counter = self.counter
        if counter is not None and self.unpack_hook is None and counter[0] == self.version:
            t = self.tensor
            return self.data if t is None else t._data
        return self.unpack(node)._data

    def _raise_modified(self, node: Node) -> None:
        data = self.data if self.tensor is None else self.tensor._data
        owner = f"output {self.output_nr} of {node.name()}" if self.tensor is None else (
            f"output {self.tensor._output_nr} of {self.grad_fn.name()}" if self.grad_fn is not None else "a leaf tensor"
        )
        saved_at = describe_site(getattr(node, "_site", None))
        changed = self.counter[1] if len(self.counter) > 1 else None
        changed_at = "an unknown location" if changed is None else f"{changed[2]} at {describe_site(changed[:2])}"
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"{describe_tensor(data.shape, data.dtype)}, which is {owner}, is at version {self.counter[0]}; "
            f"expected version {self.version} instead.\n"
            f"  saved for backward by {node.name()}, created at {saved_at}\n"
            f"  last modified in place by {changed_at}\n"
            "Fix: clone the tensor before the in-place change (x = x.clone()), use the out-of-place "
            "form of the in-place op (x = x.add(1) instead of x.add_(1)), or make the change after "
            "backward() (as an optimizer step does for parameters)."
        )

    def release(self) -> None:
        self.tensor = None
        self.data = None
        self.counter = None


from . import _engine, _views  # noqa: E402  (both import this module)
