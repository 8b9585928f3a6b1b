"""Time OpenCL kernels against NumPy at the array level and print medians and ratios.

Run with ``PYTHONPATH=backends:. python benchmarks/opencl_bench.py`` from the
checkout (or after ``pip install -e ".[opencl]"``). Each case is warmed up once
(which also compiles its kernel), then timed ``--repeat`` times, waiting for the
device queue after each run. Ratios above 1 mean OpenCL is slower than NumPy.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import numpy as np

from multigrad_opencl import OpenCLBackend


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per case (default 30)")
    parser.add_argument("--device", type=int, default=0, help="OpenCL device index N of opencl:N (default 0)")
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
    print(f"{'case':<30} {'numpy ms':>10} {'opencl ms':>10} {'ratio':>7}  GFLOP/s (numpy / opencl)")
    for name, numpy_run, opencl_run, flops in cases:
        numpy_time = median_seconds(numpy_run, lambda: None, args.repeat)
        opencl_time = median_seconds(opencl_run, backend.synchronize, args.repeat)
        line = f"{name:<30} {numpy_time * 1e3:>10.3f} {opencl_time * 1e3:>10.3f} {opencl_time / numpy_time:>7.2f}"
        if flops:
            line += f"  {flops / numpy_time / 1e9:.1f} / {flops / opencl_time / 1e9:.1f}"
        print(line)


if __name__ == "__main__":
    main()
