"""The backward engine: runs the graph from the roots to the leaves, without recursion.

A node runs once every gradient flowing into it has arrived (dependency
counting). Among ready nodes the most recently created runs first, which
matches PyTorch's order for hooks.
"""

from __future__ import annotations

import heapq
import logging
from math import prod

import numpy as np
from typing import Iterable, Sequence

from ._grad_mode import GRAD_STATE
from ._node import ANOMALY, ANOMALY_TRACES, HOOK_STATES, AccumulateGrad, Node, SavedTensor, edge
from ._tensor import Tensor, _wrap

logger = logging.getLogger("multigrad")


def _as_tensor_tuple(value, what: str) -> tuple:
    if isinstance(value, Tensor):
        return (value,)
    if isinstance(value, (list, tuple)):
        for item in value:
            if not isinstance(item, Tensor):
                raise TypeError(f"{what} must be Tensors, got an element of type {type(item).__name__}")
        return tuple(value)
    raise TypeError(f"{what} must be a Tensor or a sequence of Tensors, got {type(value).__name__}")


def _make_root_grads(outputs: Sequence[Tensor], grad_outputs, create_graph: bool) -> list:
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    else:
        grad_outputs = list(grad_outputs) if isinstance(grad_outputs, (list, tuple)) else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"grad_tensors should have the same length as tensors: got {len(outputs)} tensors and "
            f"{len(grad_outputs)} gradients; pass one gradient (or None) per output"
        )

    grads = []
    for i, (out, grad) in enumerate(zip(outputs, grad_outputs)):
        if grad is None:
            if out._requires_grad and prod(out._data.shape) != 1:
                raise RuntimeError(
                    "grad can be implicitly created only for scalar outputs. Pass gradient= (a tensor shaped "
                    "like the output) to backward, or reduce the output first, for example y.sum().backward()"
                )
            if out._data.dtype.kind != "f":
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {out.dtype!r}")
            backend = out._backend
            grads.append(_wrap(backend.full(out._data.shape, 1, out._data.dtype), backend))
            continue
        if not isinstance(grad, Tensor):
            raise TypeError(f"gradients can be either Tensors or None, but got {type(grad).__name__}")
        if grad._data.shape != out._data.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {grad.shape!r} and output[{i}] has a shape of {out.shape!r}."
            )
        if grad._backend is not out._backend:
            raise RuntimeError(f"invalid gradient at index {i} - expected device {out.device} but got {grad.device}")
        if grad._data.dtype != out._data.dtype:
            grad = grad.to(out.dtype)  # as PyTorch, the gradient takes its output's dtype
        grads.append(grad)
    return grads


def _check_roots(outputs: Sequence[Tensor]) -> list:
    roots = []
    for i, out in enumerate(outputs):
        if not out._requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn. Create the inputs "
                "with requires_grad=True (or call requires_grad_()) before the ops, outside multigrad.no_grad()"
            )
        roots.append(edge(out))
    return roots


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None, create_graph: bool = False,
             inputs=None) -> None:
    """Accumulate gradients of ``tensors`` into the leaves' ``.grad`` (``multigrad.autograd.backward``)."""
    outputs = _as_tensor_tuple(tensors, "tensors")
    if retain_graph is None:
        retain_graph = create_graph
    roots = _check_roots(outputs)
    grads = _make_root_grads(outputs, grad_tensors, create_graph)

    targets = None
    if inputs is not None:
        input_tensors = _as_tensor_tuple(inputs, "inputs")
        if not input_tensors:
            raise RuntimeError("backward() received an empty list of inputs; pass None to accumulate into every leaf")
        targets = []
        for t in input_tensors:
            if not t._requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            targets.append(t)
    captured = run_backward(roots, grads, retain_graph, create_graph, targets, accumulate=True)

    # A non-leaf named in ``inputs`` gets its gradient in ``.grad`` like a leaf does, unless
    # retain_grad already stored it there during the run.
    for t, g in zip(targets or (), captured or ()):
        if t._grad_fn is None or g is None or t.retains_grad:
            continue
        if not create_graph:
            g = _wrap(g._backend.clone(g._data), g._backend)  # never alias the caller's gradient
        t._grad = g if t._grad is None else t._grad + g


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool | None = None, is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple:
    """Return the gradients of ``outputs`` with respect to ``inputs``, leaving ``.grad`` untouched."""
    if is_grads_batched:
        raise NotImplementedError("is_grads_batched=True is not supported; loop over the batch instead")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, but got: allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    out_tensors = _as_tensor_tuple(outputs, "outputs")
    in_tensors = _as_tensor_tuple(inputs, "inputs")
    if not in_tensors:
        raise RuntimeError("grad requires non-empty inputs.")
    if retain_graph is None:
        retain_graph = create_graph
    for t in in_tensors:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    roots = _check_roots(out_tensors)
    grads = _make_root_grads(out_tensors, grad_outputs, create_graph)

    captured = run_backward(roots, grads, retain_graph, create_graph, list(in_tensors), accumulate=False)
    result = []
    for i, t in enumerate(in_tensors):
        g = captured[i]
        if g is not None and g._data.dtype != t._data.dtype:
            g = g.to(t.dtype)  # as PyTorch, each gradient takes its input's dtype
        if g is None:
            if materialize_grads:
                from ._generated._ops import zeros_like

                g = zeros_like(t)
            elif not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior."
                )
        result.append(g)
    return tuple(result)


def _collect_dependencies(roots: Iterable[Node]) -> dict:
    """Count, for each node reachable from the roots, how many edges lead into it."""
    # A node enters ``deps`` when first reached, so membership doubles as the visited set.
    deps: dict = dict.fromkeys(roots, 0)
    stack = list(deps)
    pop, push, count_of = stack.pop, stack.append, deps.get  # bound once: this loop visits every edge
    while stack:
        for next_node, _ in pop().next_functions:
            if next_node is None:
                continue
            count = count_of(next_node)
            if count is None:
                deps[next_node] = 1
                push(next_node)
            else:
                deps[next_node] = count + 1
    return deps


def _nodes_leading_to(targets: set, roots: list) -> set:
    """Return the nodes from which some target node can be reached (the targets included)."""
    # Reverse the reachable graph once, then walk back from the targets.
    parents: dict = {}
    stack = list(roots)
    seen = set(stack)
    while stack:
        node = stack.pop()
        for next_node, _ in node.next_functions:
            if next_node is None:
                continue
            parents.setdefault(next_node, []).append(node)
            if next_node not in seen:
                seen.add(next_node)
                stack.append(next_node)
    needed = set()
    stack = [t for t in targets if t in seen]
    while stack:
        node = stack.pop()
        if node in needed:
            continue
        needed.add(node)
        stack.extend(parents.get(node, ()))
    return needed


def _seed_buffers(roots: list, root_grads: list) -> dict:
    """Return the gradient buffers of the root nodes: one slot per output, summed where roots share one."""
    buffers: dict = {}
    for (node, output_nr), g in zip(roots, root_grads):
        if node is None:
            continue
        buffer = buffers.get(node)
        if buffer is None:
            buffer = buffers[node] = [None] * node.num_outputs
        previous = buffer[output_nr]
        buffer[output_nr] = g if previous is None else previous + g
    return buffers


def _plan_targets(targets: list | None, root_nodes: list) -> tuple[dict, set | None]:
    """Return where to capture the targets' gradients, and the nodes worth running (None: all)."""
    if targets is None:
        return {}, None
    capture_at: dict = {}
    target_nodes = set()
    for i, t in enumerate(targets):
        target_edge = edge(t)
        capture_at.setdefault(target_edge, []).append(i)
        target_nodes.add(target_edge[0])
    return capture_at, _nodes_leading_to(target_nodes, root_nodes)


def run_backward(roots: list, root_grads: list, retain_graph: bool, create_graph: bool,
                 targets: list | None, accumulate: bool) -> list | None:
    """Run the graph from ``roots`` (``(node, output_nr)`` pairs) with the given gradients.

    With ``accumulate`` the leaves' AccumulateGrad nodes run, only those of
    ``targets`` when given. Without it, the gradients arriving at ``targets``
    are captured and returned in order, and no ``.grad`` changes.
    """
    buffers = _seed_buffers(roots, root_grads)
    root_nodes = list(buffers)
    deps = _collect_dependencies(root_nodes)
    capture_at, needed = _plan_targets(targets, root_nodes)
    captured = [None] * len(targets) if targets is not None else None

    # Run ready nodes, newest first, until the queue is empty.
    heappush, heappop = heapq.heappush, heapq.heappop
    hook_states = HOOK_STATES.data  # the plain dict behind the weak mapping: cheap to test for emptiness
    previous_mode = GRAD_STATE.enabled
    GRAD_STATE.enabled = create_graph
    anomaly = ANOMALY.enabled  # read once: switching anomaly mode inside a hook applies from the next backward
    # Nodes with apply_arrays may take the array path: nothing is recorded, no gradient is captured.
    plain = not create_graph and targets is None and not anomaly
    try:
        ready = [(-node._seq, node) for node in root_nodes if deps[node] == 0]
        heapq.heapify(ready)
        # The one node that became ready while nothing else was runs next without the heap, with its
        # gradients in ``handed`` instead of ``buffers``.
        following = handed = None
        while following is not None or ready:
            if following is not None:
                node, grads, following = following, handed, None
            else:
                node = heappop(ready)[1]
                grads = buffers.pop(node)

            apply_arrays = node.apply_arrays
            if plain and apply_arrays is not None and not (hook_states and node in HOOK_STATES):
                # The array path: gradients stay (array, backend) pairs between such nodes.
                g = grads[0]
                if g is None:
                    outputs = (None,) * len(node.next_functions)
                    array_backend = None
                else:
                    if g.__class__ is tuple:
                        data, array_backend = g
                    else:
                        data, array_backend = g._data, g._backend
                    outputs = apply_arrays(array_backend, data)
                if not retain_graph:
                    # Node._release inline (generated nodes do not override it), with SavedTensor.release's body.
                    for name in node._saved_names:
                        saved = getattr(node, name, None)
                        if saved.__class__ is SavedTensor:
                            saved.tensor = saved.data = saved.counter = None
            elif plain and node.__class__ is AccumulateGrad and not (hook_states and node in HOOK_STATES):
                g = grads[0]
                if g is not None:
                    accumulate_into_leaf(node.variable, _as_tensor(g))
                continue
            else:
                array_backend = None
                grads = [_as_tensor(g) for g in grads]
                outputs = _apply_node(node, grads, targets, capture_at, captured, accumulate, needed, anomaly,
                                      hook_states)
                if outputs is None:
                    continue
                if not retain_graph and node._saved_names:
                    node._release()

            for (next_node, input_nr), g in zip(node.next_functions, outputs):
                if next_node is None:
                    continue
                if needed is not None and next_node not in needed:
                    continue
                if g is not None and array_backend is not None:
                    g = (g, array_backend)
                remaining = deps[next_node] - 1
                deps[next_node] = remaining
                buffer = buffers.get(next_node)
                if remaining == 0 and buffer is None and next_node.num_outputs == 1:
                    # Its only gradient, and nothing buffered (as along a chain): no buffer is needed.
                    buffer = [g]
                else:
                    if buffer is None:
                        buffer = buffers[next_node] = [None] * next_node.num_outputs
                    if g is not None:
                        previous = buffer[input_nr]
                        buffer[input_nr] = g if previous is None else _add_grads(previous, g)
                    if remaining:
                        continue
                    del buffers[next_node]
                if following is None and not ready:
                    following, handed = next_node, buffer
                else:
                    if following is not None:
                        buffers[following] = handed
                        heappush(ready, (-following._seq, following))
                        following = None
                    buffers[next_node] = buffer
                    heappush(ready, (-next_node._seq, next_node))
    finally:
        GRAD_STATE.enabled = previous_mode
    return captured


def _as_tensor(g):
    """Return a buffered gradient as a Tensor: an (array, backend) pair from the array path is wrapped."""
    return _wrap(g[0], g[1]) if g.__class__ is tuple else g


def _add_grads(previous, g):
    """Sum two gradients for the same node output, as arrays when both are (array, backend) pairs."""
    if previous.__class__ is tuple and g.__class__ is tuple:
        backend = previous[1]
        return (backend.add(previous[0], g[0]), backend)
    return _as_tensor(previous) + _as_tensor(g)


def _apply_node(node: Node, grads: list, targets, capture_at: dict, captured, accumulate: bool, needed,
                anomaly: bool, hook_states) -> tuple | None:
    """Run one node on Tensor gradients, with captures, hooks and anomaly checks.

    Returns the gradients for the node's next_functions, or None when its
    edges need no visit (a leaf under ``targets``, or no needed node beyond).
    """
    if targets is not None:
        if node.__class__ is AccumulateGrad:
            # A leaf's hooks run before its gradient is captured or accumulated, as in PyTorch.
            g = grads[0]
            if g is not None:
                g = run_leaf_hooks(node.variable, g)
            for i in capture_at.get((node, 0), ()):
                captured[i] = g
            if accumulate and g is not None:
                accumulate_into_leaf(node.variable, g, hooks_done=True)
            return None
        grads = _run_tensor_pre_hooks(node, grads)
        for output_nr, g in enumerate(grads):
            for i in capture_at.get((node, output_nr), ()):
                captured[i] = g
        if not accumulate and isinstance(node, AccumulateGrad):
            return None
        if node.next_functions and not any(n in needed for n, _ in node.next_functions):
            return None

    if anomaly:
        return _apply_in_anomaly_mode(node, grads, hooks_done=targets is not None)
    if hook_states and node in HOOK_STATES:
        return _apply_hooked_node(node, grads, hooks_done=targets is not None)
    if len(grads) == 1:
        return node.apply(grads) if grads[0] is not None else (None,) * len(node.next_functions)
    return _apply_multi_output(node, grads)


def _apply_multi_output(node: Node, grads: list) -> tuple:
    if all(g is None for g in grads):
        return (None,) * len(node.next_functions)
    return node.apply(grads)


def _run_tensor_pre_hooks(node: Node, grads: list) -> list:
    state = HOOK_STATES.get(node) if HOOK_STATES.data else None
    if state is None:
        return grads
    for output_nr, hooks in state.tensor_pre_hooks.items():
        for hook in list(hooks.values()):
            # As in PyTorch, a hook also receives a missing (None) gradient, for example from a custom
            # Function whose backward returned None.
            result = hook(grads[output_nr])
            if result is None:
                continue
            if grads[output_nr] is None:
                if not isinstance(result, Tensor):
                    raise TypeError(f"a hook on a tensor of {node.name()} returned {type(result).__name__}. "
                                    "Hooks must return a Tensor or None")
                grads[output_nr] = result
            else:
                grads[output_nr] = _checked_hook_result(result, grads[output_nr], f"a tensor of {node.name()}")
    for output_nr, tensor_ref in state.retain_grad.items():
        t = tensor_ref()
        g = grads[output_nr]
        if t is None or g is None:
            continue
        if t._grad is None:
            t._grad = g if GRAD_STATE.enabled else g.detach().clone()
        else:
            t._grad = t._grad + g
    return grads


def _checked_hook_result(result, grad, owner: str):
    """Return a hook's replacement gradient after checking its type, shape and dtype against ``grad``."""
    if not isinstance(result, Tensor):
        raise TypeError(f"a hook on {owner} returned {type(result).__name__}; hooks must return a Tensor or None")
    if result._data.shape != grad._data.shape:
        raise RuntimeError(
            f"hook on {owner} returned a gradient of shape {list(result._data.shape)}, expected "
            f"{list(grad._data.shape)}; return a tensor shaped like the gradient"
        )
    if result._data.dtype != grad._data.dtype:
        raise RuntimeError(
            f"hook on {owner} has changed the type of value (was {grad.dtype!r} got {result.dtype!r}); "
            f"return a tensor of the gradient's dtype"
        )
    return result


def _apply_in_anomaly_mode(node: Node, grads: list, hooks_done: bool) -> tuple:
    """Run a node, reporting its forward traceback on error and checking its results for NaN."""
    try:
        if node in HOOK_STATES:
            outputs = _apply_hooked_node(node, grads, hooks_done)
        else:
            outputs = _apply_multi_output(node, grads)
    except Exception as error:
        note = _forward_trace_note(node)
        logger.error("%s", note)
        if hasattr(error, "add_note"):
            error.add_note(note)
        raise
    if ANOMALY.check_nan:
        for index, g in enumerate(outputs):
            if g is not None and g._data.dtype.kind == "f" and np.isnan(g._backend.to_numpy(g._data)).any():
                error = RuntimeError(f"Function '{node.name()}' returned nan values in its {index}th output.")
                note = _forward_trace_note(node)
                logger.error("%s", note)
                if hasattr(error, "add_note"):
                    error.add_note(note)
                raise error
    return outputs


def _forward_trace_note(node: Node) -> str:
    trace = ANOMALY_TRACES.get(node)
    if trace:
        return f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n" + "".join(trace)
    return (f"Error detected in {node.name()}. No forward traceback was recorded for this node "
            "(it was created before anomaly mode was enabled).")


def _apply_hooked_node(node: Node, grads: list, hooks_done: bool) -> tuple:
    """Run a node that has hooks: tensor pre-hooks, node pre-hooks, the node, node post-hooks."""
    state = HOOK_STATES[node]
    if not hooks_done:
        grads = _run_tensor_pre_hooks(node, grads)
    for hook in list(state.pre_hooks.values()):
        result = hook(tuple(grads))
        if result is not None:
            grads = list(result)

    outputs = _apply_multi_output(node, grads)

    for hook in list(state.post_hooks.values()):
        result = hook(tuple(outputs), tuple(grads))
        if result is not None:
            outputs = tuple(result)
    return outputs


def run_leaf_hooks(variable: Tensor, g: Tensor) -> Tensor:
    """Run the hooks registered on a leaf; a returned tensor replaces the gradient."""
    hooks = getattr(variable, "_hooks", None)
    if hooks:
        for hook in list(hooks.values()):
            result = hook(g)
            if result is not None:
                g = _checked_hook_result(result, g, "a leaf tensor")
    return g


def accumulate_into_leaf(variable: Tensor, g: Tensor, hooks_done: bool = False) -> None:
    """Run a leaf's hooks on ``g`` (unless already run), then add it into ``variable.grad``."""
    if not hooks_done:
        g = run_leaf_hooks(variable, g)
    if g._data.dtype != variable._data.dtype:
        g = g.to(variable.dtype)  # as PyTorch, a leaf's gradient takes the leaf's dtype

    if variable._grad is None:
        # A fresh copy, because ``g`` may be shared with other leaves or with the caller.
        # Under create_graph the copy is recorded, so the gradient keeps its history.
        if GRAD_STATE.enabled:
            from ._generated._ops import clone

            variable._grad = clone(g)
        else:
            variable._grad = _wrap(g._backend.clone(g._data), g._backend)
    elif GRAD_STATE.enabled:
        variable._grad = variable._grad + g
    else:
        variable._grad = _accumulate_in_place(variable._grad, g)

    post_hooks = getattr(variable, "_post_accumulate_hooks", None)
    if post_hooks:
        for hook in list(post_hooks.values()):
            hook(variable)


def _accumulate_in_place(existing: Tensor, g: Tensor) -> Tensor:
    if existing._requires_grad:
        # A grad with history (from create_graph) must not be changed in place.
        return existing + g
    existing._backend.assign(existing._data, existing._backend.add(existing._data, g._data))
    existing._version_counter[0] += 1  # not a user's change: no site is recorded
    return existing
