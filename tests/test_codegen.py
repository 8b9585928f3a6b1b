"""multigrad-codegen: the committed output is current, and an invalid registry is rejected with the op and line.

The invalid registries are edited copies of ops.yaml in a temporary folder.
That folder links to the checkout's multigrad package, because the generator
looks up ``python:`` forwards beside the registry.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from multigrad.testing import default_registry_path

REGISTRY = default_registry_path()
ROOT = os.path.dirname(REGISTRY)


def _codegen_command() -> list[str]:
    script = shutil.which("multigrad-codegen")
    return [script] if script else [sys.executable, "-m", "multigrad_codegen"]


def _run_codegen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(_codegen_command() + list(args), capture_output=True, text=True, timeout=120)


def test_generated_code_is_current():
    result = _run_codegen("--check")

    assert result.returncode == 0, f"multigrad-codegen --check failed:\n{result.stdout}{result.stderr}"
    assert "up to date" in result.stdout


@pytest.fixture
def registry_copy(tmp_path):
    """Return (path, text) of a copy of ops.yaml whose folder links to the checkout's multigrad package."""
    path = tmp_path / "ops.yaml"
    shutil.copyfile(REGISTRY, path)
    os.symlink(os.path.join(ROOT, "multigrad"), tmp_path / "multigrad")
    return path, path.read_text()


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def _entry_line(text: str, name: str) -> int:
    return _line_of(text, f"- name: {name}\n")


def _replace_in_entry(text: str, name: str, old: str, new: str) -> str:
    start = text.index(f"- name: {name}\n")
    end = text.find("\n- name: ", start + 1)
    end = len(text) if end < 0 else end
    entry = text[start:end]
    assert old in entry, f"{old!r} not in the entry of {name}"
    return text[:start] + entry.replace(old, new, 1) + text[end:]


INVALID_EDITS = [
    pytest.param("exp", "self: grad * result", "self: grad * resutl",
                 r"op 'exp': formula 'grad \* resutl' reads unknown name 'resutl'", id="unknown_name"),
    pytest.param("neg", "  doc: Return -self.\n", "",
                 r"op 'neg': missing required field 'doc'", id="missing_field"),
    pytest.param("log", "self: grad / self", "self: grad / (self",
                 r"op 'log': formula 'grad / \(self' does not parse", id="formula_syntax"),
]


@pytest.mark.parametrize("name, old, new, message", INVALID_EDITS)
def test_invalid_registry_rejected(registry_copy, tmp_path, name, old, new, message):
    path, text = registry_copy
    broken = _replace_in_entry(text, name, old, new)
    path.write_text(broken)
    output = tmp_path / "generated"

    result = _run_codegen("--registry", str(path), "--output", str(output))

    assert result.returncode == 2, result.stdout + result.stderr
    line = _entry_line(broken, name)
    assert re.search(rf"ops\.yaml:{line}: {message}", result.stderr), result.stderr
    assert not output.exists(), "nothing may be written when the registry is invalid"


def test_argument_named_grad_rejected(registry_copy, tmp_path):
    path, text = registry_copy
    broken = _replace_in_entry(text, "exp", "exp(Tensor self) -> Tensor", "exp(Tensor grad) -> Tensor")
    broken = _replace_in_entry(broken, "exp", "self: grad * result", "grad: grad * result")
    path.write_text(broken)
    output = tmp_path / "generated"

    result = _run_codegen("--registry", str(path), "--output", str(output))

    assert result.returncode == 2, result.stdout + result.stderr
    assert "op 'exp': argument 'grad' hides the 'grad' that derivative formulas read" in result.stderr
    assert not output.exists()


def test_duplicate_node_name_rejected(registry_copy, tmp_path):
    path, text = registry_copy
    path.write_text(_replace_in_entry(text, "exp", "  kernel: exp\n", "  kernel: exp\n  node: LogBackward0\n"))
    output = tmp_path / "generated"

    result = _run_codegen("--registry", str(path), "--output", str(output))

    assert result.returncode == 2, result.stdout + result.stderr
    assert "Node class LogBackward0 is also made by op 'exp'" in result.stderr
    assert not output.exists()


def test_check_rejects_invalid_registry(registry_copy, tmp_path):
    path, text = registry_copy
    path.write_text(_replace_in_entry(text, "exp", "self: grad * result", "self: grad * resutl"))

    result = _run_codegen("--registry", str(path), "--check")

    assert result.returncode == 2
    assert "reads unknown name 'resutl'" in result.stderr


def test_valid_copy_generates(registry_copy, tmp_path):
    path, _ = registry_copy
    output = tmp_path / "generated"

    result = _run_codegen("--registry", str(path), "--output", str(output))

    assert result.returncode == 0, result.stderr
    committed = [name for name in os.listdir(os.path.join(ROOT, "multigrad", "_generated")) if name.endswith(".py")]
    assert sorted(os.listdir(output)) == sorted(committed)


def test_no_argument_hides_grad_or_result():
    # In a formula, 'grad' is the incoming gradient and 'result' the output. An argument of either name
    # hides it, so the Node would read the argument instead.
    from multigrad_codegen import load_registry

    registry = load_registry(REGISTRY)
    offenders = [
        f"{op.name} (ops.yaml:{op.line}) argument '{arg.name}'"
        for op in registry.ops if op.derivatives
        for arg in op.args if arg.name in ("grad", "result")
    ]

    assert offenders == [], "rename these arguments (for example to grad_output): " + "; ".join(offenders)


@pytest.mark.parametrize("formula, expected", [
    ("grad * result", "b.mul(grad_d, result_d)"),
    ("grad * (1 - result * result)", "b.mul(grad_d, b.sub(1, b.mul(result_d, result_d)))"),
    ("grad * alpha * -0.5", "b.mul(b.mul(grad_d, alpha), (-0.5))"),
    ("grad if alpha == 1 else grad * alpha", "(grad_d if alpha == 1 else b.mul(grad_d, alpha))"),
    ("grad * (alpha - 1)", "b.mul(grad_d, (alpha - 1))"),
    ("sum_to(grad, self_shape)", "sum_to_array(b, grad_d, self_shape)"),
    ("grad - sum(grad, 1, True)", "b.sub(grad_d, sum_array(b, grad_d, 1, True))"),
    ("sum_to(grad, other_shape)", None),  # not a saved name
    ("grad * self_shape", None),  # a shape is only an argument of an array twin
    ("sum_to(alpha, self_shape)", None),  # a twin's first argument must be an array
    ("grad * (1 - weight)", None),
])
def test_formula_lowering(formula, expected):
    from multigrad_codegen import load_registry
    from multigrad_codegen.lowering import lower_formula

    registry = load_registry(REGISTRY)
    lerp = registry.by_name()["lerp"]  # has a Tensor|Scalar weight, which may be a number at run time
    lowered = lower_formula(formula, lerp, registry.by_name(), {"result", "weight"}, {"alpha"},
                            frozenset({"self_shape"}))
    assert lowered == expected


def test_every_array_twin_exists():
    # The generated nodes call <name>_array for each name the lowering treats as having a twin.
    import multigrad._formula_helpers as helpers
    from multigrad_codegen.lowering import ARRAY_TWINS

    missing = sorted(f"{name}_array" for name in ARRAY_TWINS if f"{name}_array" not in helpers.__all__)

    assert missing == [], "add these to multigrad/_formula_helpers.py and its __all__: " + ", ".join(missing)
