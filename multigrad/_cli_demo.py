"""``multigrad demo``: an autograd walkthrough, then an MLP and a CNN trained on the bundled digits."""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from ._cli import UsageError
from ._cli_walkthrough import walkthrough

MLP_LR = 3e-3
CNN_LR = 1e-2


def run_demo(args: argparse.Namespace) -> int:
    """Run the parts of the demo that ``args`` selects; return the exit status."""
    import multigrad as mg

    if {"walkthrough", "mlp", "cnn"} <= set(args.skip):
        raise UsageError("--skip names every part of the demo (walkthrough, mlp, cnn), so nothing would run")
    device = _check_device(args.device)
    out = _make_out_dir(args.out)
    started = time.perf_counter()

    if "walkthrough" not in args.skip:
        walkthrough(device, out)

    results = {}
    if "mlp" not in args.skip or "cnn" not in args.skip:
        train_set, test_set = mg.datasets.load_digits(device=device)
        if args.limit is not None:
            train_set = mg.utils.data.Subset(train_set, range(min(args.limit, len(train_set))))
            train_set = _as_tensor_dataset(train_set)
        print(f"\n== Training on handwritten digits: {len(train_set)} training and {len(test_set)} test images "
              f"of 8x8 pixels, device {device} ==")
        for name in ("mlp", "cnn"):
            if name in args.skip:
                continue
            mg.manual_seed(args.seed)
            model = build_model(name).to(device)
            lr = args.lr
            if lr is None:
                lr = MLP_LR if name == "mlp" else CNN_LR
            print(f"\n{name.upper()} (Adam, lr {lr:g} annealed to 0, batch size {args.batch_size}, {args.epochs} epoch{'s' if args.epochs != 1 else ''}):\n{model}")
            results[name] = train(name, model, train_set, test_set, args.epochs, args.batch_size, lr, args.seed)

    if results:
        _write_outputs(results, args, out)
    print(f"\nDone in {time.perf_counter() - started:.1f} s; outputs are in {out}")
    return 0


def _check_device(text: str) -> str:
    import multigrad as mg
    from ._creation import get_backend

    try:
        device = mg.device(text)
    except (TypeError, ValueError) as error:
        raise UsageError(f"invalid --device {text!r}: {error}") from None
    try:
        get_backend(device)
    except RuntimeError as error:
        raise UsageError(f"device {text!r} cannot be used: {error}") from None
    return str(device)


def _make_out_dir(path: str) -> str:
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create the --out folder {path!r}: {error.strerror}") from None
    if not os.access(path, os.W_OK):
        raise UsageError(f"the --out folder {path!r} is not writable")
    return path


def _as_tensor_dataset(subset):
    import multigrad as mg

    indices = mg.tensor(np.asarray(subset.indices, dtype=np.int64), device=subset.dataset.tensors[0].device)
    return mg.utils.data.TensorDataset(*(t[indices] for t in subset.dataset.tensors))


# -- training -------------------------------------------------------------------------

def build_model(name: str):
    """Return the demo's MLP (64-128-10) or CNN (two 3x3 convolutions, a 2x2 max pool and a linear layer)."""
    from . import nn

    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.Flatten(),
        nn.Linear(16 * 4 * 4, 10),
    )


class Progress:
    """A plain-text progress bar: redrawn in place on a terminal, one final line per epoch otherwise."""

    WIDTH = 24

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stdout
        self.interactive = hasattr(self.stream, "isatty") and self.stream.isatty()

    def line(self, prefix: str, done: int, total: int, loss: float, accuracy: float, rate: float) -> str:
        filled = int(self.WIDTH * done / total) if total else self.WIDTH
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        return (f"{prefix} [{bar}] {done}/{total}  loss {loss:.4f}  acc {100 * accuracy:5.1f}%  "
                f"{rate:,.0f} examples/s")

    def update(self, text: str) -> None:
        if self.interactive:
            self.stream.write("\r" + text)
            self.stream.flush()

    def finish(self, text: str) -> None:
        self.stream.write(("\r" if self.interactive else "") + text + "\n")
        self.stream.flush()


def evaluate(model, dataset, batch_size: int = 512) -> float:
    """Return the accuracy of ``model`` on ``dataset`` (a TensorDataset of images and labels)."""
    import multigrad as mg

    model.eval()
    correct = 0
    with mg.no_grad():
        for images, labels in mg.utils.data.DataLoader(dataset, batch_size=batch_size):
            predicted = model(images).numpy().argmax(axis=1)
            correct += int((predicted == labels.numpy()).sum())
    model.train()
    return correct / len(dataset)


def train(name: str, model, train_set, test_set, epochs: int, batch_size: int, lr: float, seed: int) -> dict:
    """Train ``model`` with Adam, a cosine learning-rate schedule and cross entropy.

    Returns the model, its optimizer, the loss of every step, the final
    test accuracy and the training time in seconds.
    """
    import multigrad as mg

    optimizer = mg.optim.Adam(model.parameters(), lr=lr)
    # Annealing the rate to zero over the run makes the final accuracy steadier from seed to seed.
    scheduler = mg.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss_fn = mg.nn.CrossEntropyLoss()
    loader = mg.utils.data.DataLoader(train_set, batch_size=batch_size, shuffle=True, seed=seed)
    progress = Progress()
    step_losses = []
    test_accuracy = 0.0
    started = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        seen = correct = 0
        loss_sum = 0.0
        epoch_start = time.perf_counter()
        prefix = f"{name} epoch {epoch:>{len(str(epochs))}}/{epochs}"
        line = ""
        for step, (images, labels) in enumerate(loader, 1):
            logits = model(images)
            loss = loss_fn(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            n = labels.shape[0]
            loss_value = loss.item()
            step_losses.append(loss_value)
            loss_sum += loss_value * n
            correct += int((logits.detach().numpy().argmax(axis=1) == labels.numpy()).sum())
            seen += n
            rate = seen / max(time.perf_counter() - epoch_start, 1e-9)
            line = progress.line(prefix, step, len(loader), loss_sum / seen, correct / seen, rate)
            progress.update(line)
        scheduler.step()
        test_accuracy = evaluate(model, test_set)
        progress.finish(f"{line}  test acc {100 * test_accuracy:5.1f}%")
    seconds = time.perf_counter() - started
    print(f"{name.upper()} test accuracy: {100 * test_accuracy:.1f}% on {len(test_set)} images "
          f"(trained in {seconds:.1f} s)")
    return {"model": model, "optimizer": optimizer, "step_losses": step_losses, "test_accuracy": test_accuracy,
            "seconds": seconds}


def _write_outputs(results: dict, args: argparse.Namespace, out: str) -> None:
    import multigrad as mg
    from ._cli_plot import loss_curve_svg

    checkpoint = {"seed": args.seed, "epochs": args.epochs, "device": args.device}
    for name, result in results.items():
        checkpoint[name] = result["model"].state_dict()
        checkpoint[f"{name}_optimizer"] = result["optimizer"].state_dict()
        checkpoint[f"{name}_test_accuracy"] = result["test_accuracy"]
    checkpoint_path = os.path.join(out, "checkpoint.npz")
    mg.save(checkpoint, checkpoint_path)
    print(f"\nSaved the trained weights and optimizer states to {checkpoint_path} (read it with multigrad.load)")

    svg = loss_curve_svg({name.upper(): result["step_losses"] for name, result in results.items()},
                         "Training loss on the digits", "training step", "cross-entropy loss")
    plot_path = os.path.join(out, "loss_curve.svg")
    with open(plot_path, "w", encoding="utf-8") as f:
        f.write(svg)
    print(f"Drew the training loss curves to {plot_path}")
