"""``python -m multigrad.testing DEVICE``: run the registry checks on one device.

Every op and sample of ops.yaml runs on DEVICE and on a reference (the NumPy
device by default, or PyTorch), comparing values and gradients in each dtype;
gradcheck then runs in float64 on DEVICE. The exit status is 1 when a check fails.
"""

from __future__ import annotations

import argparse
import sys

from .checks import CheckFailure, SkipCase, check_against_reference, check_gradcheck, load_cases
from .libraries import make_library
from .tolerances import DTYPES


def main(argv: list[str] | None = None) -> int:
    """Run the checks that the command line selects; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m multigrad.testing", description=__doc__.split("\n\n")[0])
    parser.add_argument("device", help="device to test: numpy, opencl, opencl:1, ...")
    parser.add_argument("--reference", default="numpy", help="'numpy' (multigrad on the NumPy device, the default) or 'torch'")
    parser.add_argument("--registry", default=None, help="path of ops.yaml (default: the checkout's)")
    parser.add_argument("--op", action="append", dest="ops", metavar="NAME", help="check only this op (repeatable)")
    parser.add_argument("--dtype", action="append", dest="dtypes", metavar="DTYPE", help=f"dtype to compare in (repeatable; default: {', '.join(DTYPES)})")
    parser.add_argument("--no-gradcheck", action="store_true", help="skip gradcheck")
    parser.add_argument("--gradgradcheck", action="store_true", help="also run gradgradcheck")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every failure in full, not only its first line")
    args = parser.parse_args(argv)

    library = make_library(args.device)
    reference = make_library(args.reference)
    cases = load_cases(args.registry)
    if args.ops:
        unknown = sorted(set(args.ops) - {case.op.name for case in cases})
        if unknown:
            parser.error(f"no op named {', '.join(unknown)} in the registry")
        cases = [case for case in cases if case.op.name in args.ops]

    checks = [(f"vs {reference.name} {dtype}", check_against_reference, (dtype, library, reference)) for dtype in args.dtypes or DTYPES]
    if not args.no_gradcheck:
        checks.append(("gradcheck", check_gradcheck, (library,)))
    if args.gradgradcheck:
        checks.append(("gradgradcheck", check_gradcheck, (library, True)))

    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for case in cases:
        for label, check, extra in checks:
            try:
                check(case, *extra)
            except SkipCase:
                counts["skipped"] += 1
            except CheckFailure as failure:
                counts["failed"] += 1
                text = str(failure) if args.verbose else str(failure).splitlines()[0]
                print(f"FAILED {case.id} [{label}]: {text}")
            except Exception as error:  # noqa: BLE001 - a crash in one case must not hide the others
                counts["failed"] += 1
                print(f"FAILED {case.id} [{label}]: the check raised {type(error).__name__}: {error}")
            else:
                counts["passed"] += 1

    print(f"{library.name} against {reference.name}: {counts['passed']} passed, {counts['failed']} failed, "
          f"{counts['skipped']} skipped ({len(cases)} cases)")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
