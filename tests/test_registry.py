"""Every op of ops.yaml, every sample, float32 and float64: values and gradients against PyTorch, and gradcheck.

The cases come from the registry itself, so declaring an op (with samples)
adds it here; an op without samples fails. How an op is called and which ops
are skipped is decided in multigrad/testing/special.py.
"""

from __future__ import annotations

import pytest

from multigrad.testing import (
    DTYPES, CheckFailure, MissingSamples, MultigradLibrary, SkipCase, TorchLibrary, check_against_reference,
    check_gradcheck, collect_cases, load_cases,
)

CASES = load_cases()
CASE_IDS = [case.id for case in CASES]


@pytest.fixture(scope="module")
def reference(torch):
    return TorchLibrary()


@pytest.fixture(scope="module")
def library():
    return MultigradLibrary("numpy")


def _run(check, *args):
    try:
        check(*args)
    except SkipCase as skip:
        pytest.skip(skip.reason)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_torch(case, dtype, library, reference):
    _run(check_against_reference, case, dtype, library, reference)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_gradcheck(case, library):
    _run(check_gradcheck, case, library)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_gradgradcheck(case, library):
    _run(check_gradcheck, case, library, True)


# -- the machinery itself ------------------------------------------------------------

_TINY_REGISTRY = """\
- name: neg
  signature: neg(Tensor self) -> Tensor
  doc: Return -self.
  kernel: neg
  derivatives:
    self: -grad
  samples:
    - args: [[3]]

- name: exp
  signature: exp(Tensor self) -> Tensor
  doc: Return e raised to self.
  kernel: exp
  derivatives:
    self: grad * result
  samples: []
"""


def test_op_without_samples_fails(tmp_path, library, reference):
    path = tmp_path / "ops.yaml"
    path.write_text(_TINY_REGISTRY)
    from multigrad_codegen import load_registry

    cases = collect_cases(load_registry(str(path)))
    assert [(case.op.name, case.sample_index) for case in cases] == [("neg", 0), ("exp", None)]

    check_against_reference(cases[0], "float64", library, reference)
    with pytest.raises(MissingSamples, match=r"op 'exp' \(ops.yaml:10\).*declares no samples.*Add at least one"):
        check_against_reference(cases[1], "float64", library, reference)
    with pytest.raises(MissingSamples, match="declares no samples"):
        check_gradcheck(cases[1], library)


class _WrongGradient(MultigradLibrary):
    """multigrad whose every function returns -x with the gradient +2 instead of -1."""

    def function(self, name):
        return lambda x: -x.detach() + 2 * (x - x.detach())


def test_wrong_gradient_is_reported(tmp_path, reference):
    path = tmp_path / "ops.yaml"
    path.write_text(_TINY_REGISTRY)
    from multigrad_codegen import load_registry

    neg_case = collect_cases(load_registry(str(path)))[0]
    wrong = _WrongGradient("numpy")

    with pytest.raises(CheckFailure, match="gradient of float input 0 differs"):
        check_against_reference(neg_case, "float64", wrong, reference)
    with pytest.raises(CheckFailure, match="gradcheck failed: Jacobian mismatch for output 0 with respect to input 0"):
        check_gradcheck(neg_case, wrong)
