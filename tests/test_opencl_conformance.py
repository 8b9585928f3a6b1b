"""The registry suite on OpenCL: every op and sample, compared with the NumPy device, plus gradcheck in float64.

``python -m multigrad.testing opencl`` runs the same checks from the command line.
"""

from __future__ import annotations

import pytest

from multigrad.testing import DTYPES, MultigradLibrary, check_against_reference, check_gradcheck, load_cases
from opencl.availability import require_opencl
from registry_runner import run_or_skip

CASES = load_cases()
CASE_IDS = [case.id for case in CASES]


@pytest.fixture(scope="module")
def library():
    require_opencl()
    return MultigradLibrary("opencl")


@pytest.fixture(scope="module")
def reference():
    return MultigradLibrary("numpy")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_numpy_device(case, dtype, library, reference):
    run_or_skip(check_against_reference, case, dtype, library, reference)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_gradcheck_on_opencl(case, library):
    run_or_skip(check_gradcheck, case, library)
