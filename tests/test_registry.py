"""Every op of ops.yaml, every sample, float32 and float64: values and gradients against PyTorch, and gradcheck.

The cases come from the registry itself, so declaring an op (with samples)
adds it here; an op without samples fails. How an op is called and which ops
are skipped is decided in multigrad/testing/special.py.
"""

from __future__ import annotations

import os

import pytest

from multigrad.testing import (
    DTYPES, CheckFailure, MissingSamples, MultigradLibrary, TorchLibrary, check_against_reference,
    check_gradcheck, collect_cases, load_cases,
)
from registry_runner import run_or_skip

CASES = load_cases()
CASE_IDS = [case.id for case in CASES]


@pytest.fixture(scope="module")
def reference(torch):
    return TorchLibrary()


@pytest.fixture(scope="module")
def library():
    # MULTIGRAD_TEST_DEVICE=opencl (or another device) runs the whole suite on that device.
    return MultigradLibrary(os.environ.get("MULTIGRAD_TEST_DEVICE", "numpy"))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_torch(case, dtype, library, reference):
    run_or_skip(check_against_reference, case, dtype, library, reference)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_gradcheck(case, library):
    run_or_skip(check_gradcheck, case, library)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_gradgradcheck(case, library):
    run_or_skip(check_gradcheck, case, library, True)


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

    def function(self, name, functional_first=False):
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


# -- gradcheck and gradgradcheck ----------------------------------------------------------


def _double(values):
    import multigrad as mg

    return mg.tensor(values, dtype=mg.float64, requires_grad=True)


def test_gradcheck_passes_several_outputs():
    import multigrad as mg

    x, y = _double([[0.5, 1.0, 1.5], [0.2, 0.4, 0.6]]), _double([0.3, -0.7, 1.1])

    assert mg.autograd.gradcheck(lambda a, b: (a * b, (a @ b).exp()), (x, y))
    assert mg.autograd.gradgradcheck(lambda a, b: (a * b, (a @ b).exp()), (x, y))


def test_gradcheck_names_mismatch():
    import multigrad as mg

    x, y = _double([1.0, 2.0]), _double([3.0, 4.0])

    def wrong(a, b):
        # a is detached in the product, so backward gives d/da = 1 where the derivative is b + 1.
        return a.detach() * b + a

    with pytest.raises(mg.autograd.GradcheckError) as info:
        mg.autograd.gradcheck(wrong, (x, y))
    message = str(info.value)
    assert "Jacobian mismatch for output 0 with respect to input 0" in message
    assert "at input 0 element (0,) and output element (0,)" in message
    assert "numerical:" in message
    assert "analytical:" in message
    assert mg.autograd.gradcheck(wrong, (x, y), raise_exception=False) is False


def test_gradcheck_warns_on_float32():
    import multigrad as mg

    x = mg.tensor([1.0, 2.0], requires_grad=True)

    with pytest.warns(UserWarning, match="input 0 requires grad and is float32, not float64"):
        mg.autograd.gradcheck(lambda a: a * 3.0, (x,), raise_exception=False)


def test_gradcheck_needs_an_input_requiring_grad():
    import multigrad as mg

    with pytest.raises(ValueError, match="at least one input tensor to require grad"):
        mg.autograd.gradcheck(lambda a: a * 2, (mg.tensor([1.0], dtype=mg.float64),))


def test_gradgradcheck_finds_wrong_double_backward():
    import multigrad as mg

    def square_with_frozen_slope(a):
        # Forward a*a with the gradient 2*a, but 2*a is detached: the second derivative is lost.
        return a * a.detach() + (a - a.detach()) * a.detach()

    x = _double([0.5, -1.5])

    assert mg.autograd.gradcheck(square_with_frozen_slope, (x,))
    with pytest.raises(mg.autograd.GradcheckError, match="with respect to input 0"):
        mg.autograd.gradgradcheck(square_with_frozen_slope, (x,))


# -- index strings of samples ---------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("1:3, None, ::2", (slice(1, 3), None, slice(None, None, 2))),
    ("-1", -1),
    ("..., 1", (Ellipsis, 1)),
    ("[0, 2, 2]", [0, 2, 2]),
    ("[[True, False]], :", ([[True, False]], slice(None))),
    ("2,", (2,)),
])
def test_parse_index(text, expected):
    from multigrad.testing import parse_index

    assert parse_index(text) == expected


@pytest.mark.parametrize("text", ["1:2:3:4", "a", "[0, 1", "__import__('os')", "1,,2"])
def test_parse_index_rejects(text):
    from multigrad.testing import IndexSyntaxError, parse_index

    with pytest.raises(IndexSyntaxError):
        parse_index(text)
