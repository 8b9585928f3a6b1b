"""Benchmarks that compare multigrad with PyTorch, HIPS autograd and hand-written NumPy.

Run ``python -m benchmarks --help`` from the repository root. Each measurement
runs in its own subprocess (see ``worker.py``), and ``run.py`` schedules the
subprocesses, aggregates their results and prints the report.
"""
