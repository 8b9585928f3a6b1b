"""Optimizers and learning-rate schedulers, step by step against torch.optim."""

from __future__ import annotations

import math

import numpy as np
import pytest

import multigrad as mg
from multigrad import nn, optim

RNG = np.random.default_rng(0)
SHAPES = [(3, 4), (4,), ()]
INITIAL = [RNG.standard_normal(s).astype(np.float32) for s in SHAPES]
# One gradient per step and parameter, the same for both libraries.
GRADS = [[RNG.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(6)]


def run_steps(make_optimizer, library, steps=6, closure_loss=False):
    """Run ``steps`` updates with the fixed gradients; return the parameters after each step."""
    if library == "mg":
        params = [nn.Parameter(mg.tensor(x)) for x in INITIAL]
        wrap = mg.tensor
    else:
        import torch

        params = [torch.nn.Parameter(torch.tensor(x)) for x in INITIAL]
        wrap = torch.tensor
    optimizer = make_optimizer(params)
    history = []
    for step in range(steps):
        optimizer.zero_grad()
        for p, g in zip(params, GRADS[step]):
            p.grad = wrap(g)
        optimizer.step()
        history.append([np.array(p.detach().numpy()) for p in params])
    return history, optimizer, params


CASES = {
    "sgd": lambda o: lambda ps: o.SGD(ps, lr=0.1),
    "sgd_momentum": lambda o: lambda ps: o.SGD(ps, lr=0.1, momentum=0.9),
    "sgd_dampening": lambda o: lambda ps: o.SGD(ps, lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.01),
    "sgd_nesterov": lambda o: lambda ps: o.SGD(ps, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1),
    "sgd_maximize": lambda o: lambda ps: o.SGD(ps, lr=0.1, momentum=0.5, maximize=True),
    "adam": lambda o: lambda ps: o.Adam(ps, lr=0.01),
    "adam_decay": lambda o: lambda ps: o.Adam(ps, lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1),
    "adam_amsgrad": lambda o: lambda ps: o.Adam(ps, lr=0.05, amsgrad=True, maximize=True),
    "adamw": lambda o: lambda ps: o.AdamW(ps, lr=0.01),
    "adamw_amsgrad": lambda o: lambda ps: o.AdamW(ps, lr=0.01, weight_decay=0.5, amsgrad=True),
    "rmsprop": lambda o: lambda ps: o.RMSprop(ps, lr=0.01),
    "rmsprop_full": lambda o: lambda ps: o.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1,
                                                    momentum=0.9, centered=True),
    "rmsprop_centered": lambda o: lambda ps: o.RMSprop(ps, lr=0.01, centered=True, maximize=True),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_optimizer_matches_torch(torch, case):
    ours, _, _ = run_steps(CASES[case](optim), "mg")
    reference, _, _ = run_steps(CASES[case](torch.optim), "torch")
    for step, (a, b) in enumerate(zip(ours, reference)):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6, err_msg=f"{case}, step {step + 1}")


def test_optimizer_updates_in_place_and_bumps_version():
    p = nn.Parameter(mg.tensor([1.0, 2.0]))
    optimizer = optim.SGD([p], lr=0.5)
    data_before = p._data
    p.grad = mg.tensor([1.0, 1.0])
    optimizer.step()
    assert p._data is data_before
    assert p._version == 1
    assert p.tolist() == [0.5, 1.5]
    assert p.is_leaf
    assert p.requires_grad


def test_optimizer_skips_params_without_grad():
    p, q = nn.Parameter(mg.ones(2)), nn.Parameter(mg.ones(2))
    optimizer = optim.Adam([p, q], lr=0.1)
    p.grad = mg.ones(2)
    optimizer.step()
    assert q.tolist() == [1.0, 1.0]
    assert q not in optimizer.state


def test_zero_grad_modes():
    p = nn.Parameter(mg.ones(2))
    optimizer = optim.SGD([p], lr=0.1)
    p.grad = mg.ones(2)
    optimizer.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0]
    optimizer.zero_grad()
    assert p.grad is None


def test_param_groups_override_defaults():
    a, b = nn.Parameter(mg.ones(1)), nn.Parameter(mg.ones(1))
    optimizer = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1, momentum=0.9)
    assert optimizer.param_groups[0]["lr"] == 0.1
    assert optimizer.param_groups[1]["lr"] == 1.0
    assert optimizer.param_groups[1]["momentum"] == 0.9
    a.grad, b.grad = mg.ones(1), mg.ones(1)
    optimizer.step()
    assert a.item() == pytest.approx(0.9)
    assert b.item() == pytest.approx(0.0)


def test_add_param_group():
    a, b = nn.Parameter(mg.ones(1)), nn.Parameter(mg.ones(1))
    optimizer = optim.Adam([a])
    optimizer.add_param_group({"params": b, "lr": 0.5})
    assert optimizer.param_groups[1]["params"] == [b]
    assert optimizer.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optimizer.add_param_group({"params": [a]})


@pytest.mark.parametrize("make, message", [
    (lambda p: optim.SGD(p, lr=-1.0), "Invalid learning rate: -1.0"),
    (lambda p: optim.SGD(p, momentum=-0.5), "Invalid momentum value: -0.5"),
    (lambda p: optim.SGD(p, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    (lambda p: optim.Adam(p, eps=-1.0), "Invalid epsilon value: -1.0"),
    (lambda p: optim.RMSprop(p, alpha=-0.1), "Invalid alpha value: -0.1"),
    (lambda p: optim.SGD([], lr=0.1), "optimizer got an empty parameter list"),
])
def test_optimizer_rejects_bad_hyperparameters(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make([nn.Parameter(mg.ones(1))])


def test_optimizer_rejects_tensor_and_non_leaf():
    p = nn.Parameter(mg.ones(1))
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([p * 2], lr=0.1)


def test_optimizer_state_dict_round_trip():
    history, optimizer, params = run_steps(CASES["adam_amsgrad"](optim), "mg", steps=3)
    state = optimizer.state_dict()
    assert sorted(state["state"]) == [0, 1, 2]
    assert state["param_groups"][0]["params"] == [0, 1, 2]
    assert state["state"][0]["step"] == 3

    # A fresh optimizer that loads the state continues exactly like the original.
    clones = [nn.Parameter(p.detach().clone()) for p in params]
    restored = CASES["adam_amsgrad"](optim)(clones)
    restored.load_state_dict(state)
    for opt, ps in ((optimizer, params), (restored, clones)):
        for p, g in zip(ps, GRADS[3]):
            p.grad = mg.tensor(g)
        opt.step()
    for p, q in zip(params, clones):
        assert p.tolist() == q.tolist()


def test_optimizer_load_state_dict_copies_tensors():
    _, optimizer, params = run_steps(CASES["sgd_momentum"](optim), "mg", steps=1)
    state = optimizer.state_dict()
    other = optim.SGD([nn.Parameter(mg.tensor(x)) for x in INITIAL], lr=0.1, momentum=0.9)
    other.load_state_dict(state)
    buffer = other.state[other.param_groups[0]["params"][0]]["momentum_buffer"]
    assert buffer is not state["state"][0]["momentum_buffer"]


def test_optimizer_load_state_dict_rejects_mismatch():
    _, optimizer, _ = run_steps(CASES["sgd"](optim), "mg", steps=1)
    other = optim.SGD([nn.Parameter(mg.ones(1))], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        other.load_state_dict(optimizer.state_dict())


def test_optimizer_step_with_closure():
    p = nn.Parameter(mg.tensor([3.0]))
    optimizer = optim.SGD([p], lr=0.1)

    def closure():
        optimizer.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with mg.no_grad():
        loss = optimizer.step(closure)
    assert loss.item() == 9.0
    assert p.item() == pytest.approx(2.4)


def test_optimizer_repr():
    optimizer = optim.SGD([nn.Parameter(mg.ones(1))], lr=0.1)
    assert repr(optimizer).splitlines() == [
        "SGD (", "Parameter Group 0", "    dampening: 0", "    lr: 0.1", "    maximize: False", "    momentum: 0",
        "    nesterov: False", "    weight_decay: 0", ")",
    ]


# -- schedulers ---------------------------------------------------------------------------

def scheduler_lrs(o, make_scheduler, epochs=12):
    """Return the learning rates that a scheduler sets over ``epochs`` epochs."""
    if o is optim:
        params = [nn.Parameter(mg.ones(1))]
    else:
        import torch

        params = [torch.nn.Parameter(torch.ones(1))]
    optimizer = o.SGD(params, lr=0.5)
    scheduler = make_scheduler(o.lr_scheduler, optimizer)
    lrs = [scheduler.get_last_lr()[0]]
    for _ in range(epochs):
        optimizer.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    return lrs


@pytest.mark.parametrize("make", [
    lambda s, o: s.StepLR(o, step_size=3),
    lambda s, o: s.StepLR(o, step_size=2, gamma=0.5),
    lambda s, o: s.CosineAnnealingLR(o, T_max=5),
    lambda s, o: s.CosineAnnealingLR(o, T_max=4, eta_min=0.01),
])
def test_scheduler_matches_torch(torch, make):
    ours = scheduler_lrs(optim, make)
    reference = scheduler_lrs(torch.optim, make)
    np.testing.assert_allclose(ours, reference, rtol=1e-12)


def test_cosine_schedule_reaches_eta_min():
    lrs = scheduler_lrs(optim, lambda s, o: s.CosineAnnealingLR(o, T_max=10, eta_min=0.1), epochs=10)
    assert lrs[0] == 0.5
    assert lrs[5] == pytest.approx(0.1 + 0.4 * (1 + math.cos(math.pi / 2)) / 2)
    assert lrs[10] == pytest.approx(0.1)


def test_scheduler_state_dict():
    optimizer = optim.SGD([nn.Parameter(mg.ones(1))], lr=1.0)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    scheduler.step()
    state = scheduler.state_dict()
    assert state["last_epoch"] == 1
    assert "optimizer" not in state


# -- training against PyTorch -----------------------------------------------------------

def test_mlp_training_matches_torch_for_20_sgd_steps(torch):
    """The same MLP, weights and batches in both libraries give the same losses for 20 SGD steps."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    reference = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    with torch.no_grad():
        for name, value in model.state_dict().items():
            reference.state_dict()[name].copy_(torch.from_numpy(np.array(value.numpy())))

    train_set, _ = mg.datasets.load_digits()
    images = train_set.tensors[0].numpy().reshape(-1, 64)
    labels = train_set.tensors[1].numpy()
    order = np.random.default_rng(0).permutation(len(labels))

    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    torch_optimizer = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    loss_fn, torch_loss_fn = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    losses, torch_losses = [], []
    for step in range(20):
        batch = order[step * 32:(step + 1) * 32]
        loss = loss_fn(model(mg.tensor(images[batch])), mg.tensor(labels[batch]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

        torch_loss = torch_loss_fn(reference(torch.tensor(images[batch])), torch.tensor(labels[batch]))
        torch_optimizer.zero_grad()
        torch_loss.backward()
        torch_optimizer.step()
        torch_losses.append(torch_loss.item())

    np.testing.assert_allclose(losses, torch_losses, rtol=1e-4, atol=1e-5)
    assert losses[-1] < losses[0] / 2
