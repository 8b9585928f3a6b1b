"""Run one case for one library in this process and write the result as JSON.

``run.py`` starts this module once per case, library and repetition, so every
measurement starts from a fresh interpreter. The result file always gets a
record: status "ok", "missing" (library not installed) or "error" (any
exception, with its traceback), so one failing library never stops a run.
"""

from __future__ import annotations

import argparse
import json
import os
import traceback
from typing import Any

from benchmarks.cases import CASES
from benchmarks.libraries import LibraryMissingError, import_library, library_version
from benchmarks.timing import FULL_PLAN, QUICK_PLAN


def describe_error(error: BaseException) -> dict[str, Any]:
    return {
        "status": "error",
        "error": f"{type(error).__name__}: {error}",
        "traceback": "".join(traceback.format_exception(error)),
    }


def run_case(case_name: str, library: str, quick: bool, threads: int) -> dict[str, Any]:
    case = CASES[case_name]
    record: dict[str, Any] = {"case": case_name, "library": library, "params": case.params(quick), "pid": os.getpid()}
    try:
        module = import_library(library)
    except LibraryMissingError as error:
        return {**record, "status": "missing", "error": str(error)}
    except Exception as error:  # A half-written library may fail to import in any way.
        return {**record, **describe_error(error)}

    record["version"] = library_version(library, module)
    if library == "torch" and threads > 0:
        module.set_num_threads(threads)

    try:
        outcome = case.run(library, case.params(quick), QUICK_PLAN if quick else FULL_PLAN)
    except Exception as error:  # Report any failure of the library under test; the run goes on.
        return {**record, **describe_error(error)}
    return {**record, "status": "ok", **outcome}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one benchmark case for one library (started by run.py).")
    parser.add_argument("--case", required=True, choices=sorted(CASES))
    parser.add_argument("--library", required=True)
    parser.add_argument("--quick", action="store_true", help="use the small sizes and short timing")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (0 keeps torch's default). run.py sets the BLAS thread variables")
    parser.add_argument("--result-file", required=True, help="path of the JSON result to write")
    args = parser.parse_args(argv)

    record = run_case(args.case, args.library, args.quick, args.threads)
    with open(args.result_file, "w", encoding="utf-8") as file:
        json.dump(record, file)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
