"""Time each phase of the mlp_step case for multigrad and PyTorch, to show where their times differ.

Run from the repository root with ``python -m benchmarks.mlp_phases``. Both
libraries run the same step as the suite's ``mlp_step`` case, in one process,
one after the other, with one BLAS, OpenMP and torch thread. A clock read
separates the phases, so the total is a few microseconds above the suite's
time per step. Each phase prints as the minimum over ``--rounds`` rounds of
its mean over ``--steps`` steps.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before NumPy and torch load their thread pools

import argparse  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from benchmarks.cases.mlp import LEARNING_RATE, make_data  # noqa: E402
from benchmarks.libraries import import_library, make_tensor  # noqa: E402

PHASES = ("zero grads", "x @ w1 + b1", "relu", "h @ w2 + b2", "cross_entropy", "backward", "SGD update")


def phase_times(module: Any, steps: int) -> list[float]:
    """Return the mean seconds of each phase over ``steps`` steps, after as many warm-up steps."""
    x_data, label_data, param_data = make_data(64, 64, 128, 10)
    x, labels = make_tensor(module, x_data), make_tensor(module, label_data)
    params = [make_tensor(module, p, requires_grad=True) for p in param_data]
    w1, b1, w2, b2 = params
    functional = module.nn.functional
    totals = [0.0] * len(PHASES)
    for step in range(2 * steps):
        clock = [time.perf_counter()]
        for p in params:
            p.grad = None
        clock.append(time.perf_counter())
        hidden = x @ w1 + b1
        clock.append(time.perf_counter())
        hidden = hidden.relu()
        clock.append(time.perf_counter())
        logits = hidden @ w2 + b2
        clock.append(time.perf_counter())
        loss = functional.cross_entropy(logits, labels)
        clock.append(time.perf_counter())
        loss.backward()
        clock.append(time.perf_counter())
        with module.no_grad():
            for p in params:
                p -= LEARNING_RATE * p.grad
        clock.append(time.perf_counter())
        if step >= steps:
            for i in range(len(PHASES)):
                totals[i] += clock[i + 1] - clock[i]
    return [total / steps for total in totals]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="timed steps per round (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per library, keeping the fastest round of each phase (default 3)")
    args = parser.parse_args()

    modules = {"multigrad": import_library("multigrad"), "torch": import_library("torch")}
    modules["torch"].set_num_threads(1)
    best = {name: [float("inf")] * len(PHASES) for name in modules}
    for _ in range(args.rounds):
        for name, module in modules.items():
            best[name] = [min(a, b) for a, b in zip(best[name], phase_times(module, args.steps))]

    print(f"{'phase':<16} {'multigrad us':>13} {'torch us':>9} {'ratio':>6}")
    for i, phase in enumerate(PHASES):
        ours, theirs = best["multigrad"][i] * 1e6, best["torch"][i] * 1e6
        print(f"{phase:<16} {ours:>13.1f} {theirs:>9.1f} {ours / theirs:>6.2f}")
    ours, theirs = sum(best["multigrad"]) * 1e6, sum(best["torch"]) * 1e6
    print(f"{'total':<16} {ours:>13.1f} {theirs:>9.1f} {ours / theirs:>6.2f}")


if __name__ == "__main__":
    main()
