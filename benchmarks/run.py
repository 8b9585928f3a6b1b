"""Command line: run the benchmark cases in fresh processes and report medians and ratios.

For each case, every repetition starts one worker process per library, and the
library order rotates between repetitions so that slow drift of the machine
(thermal state, other load) spreads evenly over the libraries. A library that is
missing or fails is not retried in later repetitions of that case.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.cases import CASES, Case
from benchmarks.libraries import LIBRARIES
from benchmarks.report import format_case, format_target_summary, summarize_case

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"

# Thread pools of OpenMP, OpenBLAS and MKL read these at import time.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# Recorded in the results because they change BLAS speed.
RECORDED_VARIABLES = THREAD_VARIABLES + ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

DEFAULT_REPEAT = 5
QUICK_REPEAT = 3


def parse_names(text: str, known: list[str] | tuple[str, ...], kind: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown {kind}: {', '.join(unknown)}. Choose from: {', '.join(known)}")
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Compare multigrad with PyTorch, HIPS autograd and hand-written NumPy.",
    )
    parser.add_argument(
        "--cases",
        type=lambda text: parse_names(text, list(CASES), "case"),
        default=list(CASES),
        help=f"comma-separated cases to run (default: all): {', '.join(CASES)}",
    )
    parser.add_argument(
        "--libraries",
        type=lambda text: parse_names(text, LIBRARIES, "library"),
        default=list(LIBRARIES),
        help=f"comma-separated libraries to run (default: all): {', '.join(LIBRARIES)}",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help=f"worker processes per case and library (default: {DEFAULT_REPEAT}, or {QUICK_REPEAT} with --quick)",
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, shorter timing and fewer repetitions")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads for BLAS, OpenMP and torch in each worker (default: 1). 0 keeps the libraries' defaults",
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds after which a worker process is killed (default: 600)"
    )
    parser.add_argument(
        "--output", type=Path, default=None, help="JSON results path (default: benchmarks/results/<UTC time>.json)"
    )
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)

    if args.repeat is None:
        args.repeat = QUICK_REPEAT if args.quick else DEFAULT_REPEAT

    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {args.repeat}")
    if args.threads < 0:
        parser.error(f"--threads must be 0 or more, got {args.threads}")
    return args


def worker_environment(threads: int) -> dict[str, str]:
    environment = dict(os.environ)
    if threads > 0:
        for variable in THREAD_VARIABLES:
            environment[variable] = str(threads)
    return environment


def run_worker(case: str, library: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one worker process and return its record; a crash or timeout becomes an error record."""
    with tempfile.TemporaryDirectory(prefix="multigrad-bench-") as directory:
        result_file = Path(directory) / "result.json"
        command = [
            sys.executable, "-m", "benchmarks.worker",
            "--case", case,
            "--library", library,
            "--threads", str(args.threads),
            "--result-file", str(result_file),
        ]  # fmt: skip
        if args.quick:
            command.append("--quick")

        start = time.perf_counter()
        try:
            completed = subprocess.run(
                command,
                cwd=REPO_ROOT,
                env=worker_environment(args.threads),
                capture_output=True,
                text=True,
                timeout=args.timeout,
            )
        except subprocess.TimeoutExpired:
            return {"status": "error", "error": f"worker timed out after {args.timeout:g} s"}
        wall_s = time.perf_counter() - start

        if not result_file.exists():
            stderr_tail = completed.stderr.strip().splitlines()[-5:]
            return {
                "status": "error",
                "error": f"worker exited with code {completed.returncode} without a result: {' | '.join(stderr_tail)}",
            }
        record = json.loads(result_file.read_text(encoding="utf-8"))
    record["process_wall_s"] = wall_s
    return record


def run_case(case: Case, args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    """Run all repetitions of one case, rotating the library order, and return records per library."""
    libraries = [name for name in args.libraries if name in case.libraries]
    records: dict[str, list[dict[str, Any]]] = {name: [] for name in libraries}
    stopped: set[str] = set()
    for repetition in range(args.repeat):
        shift = repetition % len(libraries) if libraries else 0
        for library in libraries[shift:] + libraries[:shift]:
            if library in stopped:
                continue
            record = run_worker(case.name, library, args)
            records[library].append(record)
            print(f"  {case.name} {library} {repetition + 1}/{args.repeat}: {describe_record(record)}", file=sys.stderr)
            if record["status"] != "ok":
                stopped.add(library)
    return records


def describe_record(record: dict[str, Any]) -> str:
    if record["status"] != "ok":
        return f"{record['status']}: {record.get('error', '')}"
    return ", ".join(f"{name}={figures['value']:.4g}" for name, figures in record["metrics"].items())


def read_cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def read_git_commit() -> str | None:
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return completed.stdout.strip()


def describe_machine(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "time_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": read_git_commit(),
        "command": [Path(sys.executable).name, "-m", "benchmarks", *sys.argv[1:]],
        "quick": args.quick,
        "repeat": args.repeat,
        "threads": args.threads,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cpu": read_cpu_model(),
        "cpu_count": os.cpu_count(),
        "environment": {name: os.environ[name] for name in RECORDED_VARIABLES if name in os.environ},
    }


def default_output_path() -> Path:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return RESULTS_DIR / f"{stamp}.json"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for case in CASES.values():
            print(f"{case.name}: {case.summary.format(**case.full)}")
        return 0

    output = args.output or default_output_path()
    meta = describe_machine(args)
    print(f"{meta['cpu']}, {meta['cpu_count']} CPUs, Python {meta['python']}, NumPy {meta['numpy']}, threads {args.threads}")

    results: dict[str, dict[str, Any]] = {}
    for name in args.cases:
        case = CASES[name]
        params = case.params(args.quick)
        results[name] = summarize_case(case, params, run_case(case, args))
        print(format_case(case, results[name], args.repeat), flush=True)
        print(flush=True)
    print(format_target_summary(results))

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({"meta": meta, "cases": results}, indent=2), encoding="utf-8")
    print(f"\nresults written to {output}")
    return 0
