"""Time OpenCL against NumPy: kernels at the array level, then MLP training steps through multigrad tensors.

Run with ``PYTHONPATH=backends:. python benchmarks/opencl_bench.py`` from the
checkout (or after ``pip install -e ".[opencl]"``). Each case is warmed up once
(which also compiles its kernels), then timed ``--repeat`` times, waiting for the
device queue after each run. Ratios above 1 mean OpenCL is slower than NumPy.

An MLP step is the forward pass, cross-entropy, backward and an SGD update
``p -= lr * p.grad`` under no_grad. The same step runs on the ``numpy`` and
the ``opencl`` device, and reading the loss with ``item()`` waits for the device.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import numpy as np

import multigrad as mg
from multigrad_opencl import OpenCLBackend

#: MLP shapes (batch, inputs, hidden, classes): the benchmark suite's mlp_step, and a larger one.
MLP_SHAPES = [(64, 64, 128, 10), (256, 784, 512, 10)]


def median_seconds(run: Callable[[], object], finish: Callable[[], None], repeat: int) -> float:
    """Return the median wall time of ``run`` over ``repeat`` calls, after one warm-up call."""
    run()
    finish()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        finish()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def mlp_step(device: str, shape: tuple[int, int, int, int], seed: int = 1) -> Callable[[], float]:
    """Return a function that runs one SGD step of a ReLU MLP on ``device`` and returns the loss."""
    batch, inputs, hidden, classes = shape
    rng = np.random.default_rng(seed)
    x = mg.tensor(rng.standard_normal((batch, inputs)).astype(np.float32), device=device)
    labels = mg.tensor(rng.integers(0, classes, batch), device=device)
    params = [
        mg.tensor((rng.standard_normal((inputs, hidden)) / np.sqrt(inputs)).astype(np.float32), device=device),
        mg.zeros(hidden, device=device),
        mg.tensor((rng.standard_normal((hidden, classes)) / np.sqrt(hidden)).astype(np.float32), device=device),
        mg.zeros(classes, device=device),
    ]
    for p in params:
        p.requires_grad_()

    def step() -> float:
        w1, b1, w2, b2 = params
        for p in params:
            p.grad = None
        logits = (x @ w1 + b1).relu() @ w2 + b2
        loss = mg.nn.functional.cross_entropy(logits, labels)
        loss.backward()
        with mg.no_grad():
            for p in params:
                p -= 0.1 * p.grad
        return loss.item()

    return step


def run_mlp_cases(repeat: int, device: str) -> None:
    """Print the median time of one MLP step on the NumPy and the OpenCL device, for each shape."""
    print(f"\n{'MLP step (batch-in-hidden-out)':<30} {'numpy ms':>10} {'opencl ms':>10} {'ratio':>7}  first losses")
    for shape in MLP_SHAPES:
        numpy_step, opencl_step = mlp_step("numpy", shape), mlp_step(device, shape)
        losses = (numpy_step(), opencl_step())
        numpy_time = median_seconds(numpy_step, lambda: None, repeat)
        opencl_time = median_seconds(opencl_step, lambda: None, repeat)
        name = "-".join(str(s) for s in shape)
        print(f"{name:<30} {numpy_time * 1e3:>10.3f} {opencl_time * 1e3:>10.3f} {opencl_time / numpy_time:>7.2f}"
              f"  {losses[0]:.5f} / {losses[1]:.5f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per case (default 30)")
    parser.add_argument("--device", type=int, default=0, help="OpenCL device index N of opencl:N (default 0)")
    parser.add_argument("--mlp-only", action="store_true", help="run only the MLP step cases")
    args = parser.parse_args()

    available, reason = OpenCLBackend.availability()
    if not available:
        raise SystemExit(f"OpenCL is unavailable: {reason}")
    backend = OpenCLBackend(args.device)
    rng = np.random.default_rng(0)
    vector = rng.standard_normal(1_000_000).astype(np.float32)
    matrix = rng.standard_normal((1000, 1000)).astype(np.float32)
    row = rng.standard_normal(1000).astype(np.float32)
    left = rng.standard_normal((512, 512)).astype(np.float32)
    right = rng.standard_normal((512, 512)).astype(np.float32)
    d_vector, d_matrix, d_row = backend.from_numpy(vector), backend.from_numpy(matrix), backend.from_numpy(row)
    d_left, d_right = backend.from_numpy(left), backend.from_numpy(right)

    cases = [
        ("exp, 1e6 float32", lambda: np.exp(vector), lambda: backend.exp(d_vector), None),
        ("mul, 1e6 float32", lambda: vector * vector, lambda: backend.mul(d_vector, d_vector), None),
        ("add (1000,1000) + (1000,)", lambda: matrix + row, lambda: backend.add(d_matrix, d_row), None),
        ("sum axis 0 of (1000,1000)", lambda: matrix.sum(0), lambda: backend.sum(d_matrix, (0,)), None),
        ("sum axis 1 of (1000,1000)", lambda: matrix.sum(1), lambda: backend.sum(d_matrix, (1,)), None),
        ("matmul 512x512 float32", lambda: left @ right, lambda: backend.matmul(d_left, d_right), 2 * 512 ** 3),
    ]
    print(f"device: {OpenCLBackend.device_names()[args.device]}, {args.repeat} timed runs per case")
    if args.mlp_only:
        run_mlp_cases(args.repeat, f"opencl:{args.device}")
        return
    print(f"{'case':<30} {'numpy ms':>10} {'opencl ms':>10} {'ratio':>7}  GFLOP/s (numpy / opencl)")
    for name, numpy_run, opencl_run, flops in cases:
        numpy_time = median_seconds(numpy_run, lambda: None, args.repeat)
        opencl_time = median_seconds(opencl_run, backend.synchronize, args.repeat)
        line = f"{name:<30} {numpy_time * 1e3:>10.3f} {opencl_time * 1e3:>10.3f} {opencl_time / numpy_time:>7.2f}"
        if flops:
            line += f"  {flops / numpy_time / 1e9:.1f} / {flops / opencl_time / 1e9:.1f}"
        print(line)
    run_mlp_cases(args.repeat, f"opencl:{args.device}")


if __name__ == "__main__":
    main()
