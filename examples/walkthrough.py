"""The autograd walkthrough: leaves, grad_fn, retain_grad, hooks and in-place checks.

Run it with ``python examples/walkthrough.py``; every printed value is what
PyTorch prints for the same steps.
"""

import multigrad as mg

# A leaf and the node that records exp.
a = mg.tensor(2.0, requires_grad=True)
b = a.exp()
print("b =", b)

# A small graph: leaves w1, w2, w3; intermediate tensors l1..l4.
inputs = mg.ones([2, 2])
w1 = mg.tensor(2.0, requires_grad=True)
w2 = mg.tensor(3.0, requires_grad=True)
w3 = mg.tensor(4.0, requires_grad=True)
l1 = inputs * w1
l2 = l1 + w2
l3 = l1 * w3
l4 = l2 * l3
loss = l4.mean()
print("loss =", loss)
print("w1.data, w1.grad, w1.grad_fn =", w1.data, w1.grad, w1.grad_fn)
print("l1.grad_fn =", l1.grad_fn, "loss.grad_fn =", loss.grad_fn)

# Keep the gradients of intermediate tensors, and watch them flow with hooks.
for name, t in (("loss", loss), ("l4", l4), ("l1", l1)):
    t.retain_grad()
    t.register_hook(lambda grad, name=name: print(f"hook on {name}: {grad}"))
loss.backward()
print("w1.grad, w2.grad, w3.grad =", w1.grad, w2.grad, w3.grad)
print("loss.grad =", loss.grad)
print("l4.grad =", l4.grad)
print("l1.grad =", l1.grad)

# Changing a saved tensor in place makes backward fail.
b = mg.tensor([1.0, 3.0], requires_grad=True) + 2
loss = (b * b).mean()
b[0] = 1000.0
try:
    loss.backward()
except RuntimeError as error:
    print("RuntimeError:", error)

# In-place changes of a leaf that requires grad are rejected at once.
a = mg.tensor([10.0, 5.0, 2.0, 3.0], requires_grad=True)
try:
    a.add_(10.0)
except RuntimeError as error:
    print("RuntimeError:", error)
with mg.no_grad():
    a[:] = 10.0
(a * a).mean().backward()
print("a.grad =", a.grad)
