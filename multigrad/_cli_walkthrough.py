"""The autograd walkthrough of ``multigrad demo``: each step's values, gradients and errors.

This module plays the user's part: multigrad's in-place errors name lines of
user code, and they name lines here (see ``USER_CODE_FILES`` in multigrad._node).
"""

from __future__ import annotations

import os


def _show(label: str, value) -> None:
    text = repr(value)
    if "\n" in text:
        text = "\n    " + text.replace("\n", "\n    ")
    print(f"  {label} = {text}")


def walkthrough(device: str, out: str) -> None:
    """Print each step of a small autograd example with its values and gradients, and draw its graph."""
    import multigrad as mg

    print("== Autograd walkthrough ==")
    print("\n1. One op: b = exp(a), so db/da = exp(a)")
    a = mg.tensor(2.0, requires_grad=True, device=device)
    b = a.exp()
    _show("a", a)
    _show("b", b)
    print(f"  b.grad_fn = {b.grad_fn.name()}, a.is_leaf = {a.is_leaf}, b.is_leaf = {b.is_leaf}")
    b.backward()
    _show("a.grad (exp(2) = 7.3891)", a.grad)

    print("\n2. A graph: l1 = input*w1, l2 = l1 + w2, l3 = l1*w3, l4 = l2*l3, loss = mean(l4)")
    input = mg.ones([2, 2], device=device)
    w1 = mg.tensor(2.0, requires_grad=True, device=device)
    w2 = mg.tensor(3.0, requires_grad=True, device=device)
    w3 = mg.tensor(4.0, requires_grad=True, device=device)
    l1 = input * w1
    l2 = l1 + w2
    l3 = l1 * w3
    l4 = l2 * l3
    loss = l4.mean()
    for name, t in (("l1", l1), ("l2", l2), ("l3", l3), ("l4", l4), ("loss", loss)):
        _show(name, t)
    print(f"  loss.grad_fn = {loss.grad_fn.name()}; its next_functions: "
          f"{[fn.name() if fn is not None else None for fn, _ in loss.grad_fn.next_functions]}")
    print(f"  l4.grad_fn.next_functions: {[fn.name() for fn, _ in l4.grad_fn.next_functions]}")

    print("\n   retain_grad() on l1, l4 and loss keeps their .grad; hooks print each gradient as it arrives:")
    for name, t in (("loss", loss), ("l4", l4), ("l1", l1)):
        t.retain_grad()
        t.register_hook(lambda grad, name=name: print(f"  hook on {name}: grad =", _one_line(grad)))
    loss.backward()
    _show("w1.grad (expected 28)", w1.grad)
    _show("w2.grad (expected 8)", w2.grad)
    _show("w3.grad (expected 10)", w3.grad)
    _show("loss.grad (expected 1)", loss.grad)
    _show("l4.grad (expected 0.25 each: d mean / d l4)", l4.grad)
    _show("l1.grad (expected 7 each: l3 + l2 * w3)", l1.grad)
    _draw_graph(loss, {"w1": w1, "w2": w2, "w3": w3}, out)

    print("\n3. Changing a saved tensor in place makes backward fail")
    c = mg.tensor([1.0, 3.0], requires_grad=True, device=device) + 2
    loss = (c * c).mean()
    print(f"  c = x + 2, loss = mean(c * c) saves c; c._version = {c._version}")
    c[0] = 1000.0
    print(f"  after c[0] = 1000.0: c._version = {c._version}")
    try:
        loss.backward()
    except RuntimeError as error:
        print(f"  loss.backward() raised RuntimeError: {error}")

    print("\n4. In-place ops on a leaf that requires grad are rejected, except under no_grad")
    leaf = mg.tensor([10.0, 5.0, 2.0, 3.0], requires_grad=True, device=device)
    for text, action in (("leaf.add_(10.0)", lambda: leaf.add_(10.0)), ("leaf[:] = 0", lambda: leaf.__setitem__(slice(None), 0.0))):
        try:
            action()
        except RuntimeError as error:
            print(f"  {text} raised RuntimeError: {error}")
    with mg.no_grad():
        leaf[:] = 10.0
    _show("after 'with no_grad(): leaf[:] = 10.0', leaf", leaf)


def _one_line(t) -> str:
    return " ".join(repr(t).split())


def _draw_graph(loss, params: dict, out: str) -> None:
    import multigrad as mg

    graph = mg.viz.make_dot(loss, params=params)
    path = os.path.join(out, "walkthrough_graph.svg")
    try:
        graph.render(path)
        print(f"  graph of loss drawn to {path}")
    except mg.viz.GraphvizNotFoundError as error:
        dot_path = graph.save(os.path.join(out, "walkthrough_graph.dot"))
        print(f"  {error}\n  wrote the DOT text to {dot_path} instead")
