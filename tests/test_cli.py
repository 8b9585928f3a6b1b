"""The multigrad command: a shortened demo, backends, codegen, and one-line usage errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import multigrad as mg
from multigrad._cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_cli(*args, timeout=300):
    """Run ``python -m multigrad ARGS`` and return the completed process."""
    return subprocess.run([sys.executable, "-m", "multigrad", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


@pytest.fixture(scope="module")
def short_demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = run_cli("demo", "--epochs", "1", "--limit", "256", "--out", str(out), "--seed", "3")
    return result, out


def test_demo_exits_cleanly(short_demo):
    result, _ = short_demo
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_demo_walkthrough_values(short_demo):
    output = short_demo[0].stdout
    for line in ("w1.grad (expected 28) = tensor(28.)", "w2.grad (expected 8) = tensor(8.)",
                 "w3.grad (expected 10) = tensor(10.)", "loss.grad (expected 1) = tensor(1.)",
                 "hook on l4: grad = tensor([[0.2500, 0.2500], [0.2500, 0.2500]])",
                 "hook on l1: grad = tensor([[7., 7.], [7., 7.]])"):
        assert line in output
    assert "modified by an inplace operation" in output
    assert "a leaf Variable that requires grad is being used in an in-place operation" in output


def test_demo_trains_both_models(short_demo):
    output = short_demo[0].stdout
    assert "256 training and 355 test images" in output
    assert "mlp epoch 1/1 [########################] 8/8" in output
    assert "cnn epoch 1/1" in output
    assert "examples/s" in output
    assert "MLP test accuracy:" in output
    assert "CNN test accuracy:" in output


def test_demo_writes_outputs(short_demo):
    _, out = short_demo
    assert sorted(os.listdir(out)) == ["checkpoint.npz", "loss_curve.svg", "walkthrough_graph.svg"]
    with open(out / "loss_curve.svg", encoding="utf-8") as f:
        svg = f.read()
    assert svg.startswith("<svg")
    assert svg.count("<polyline") == 2
    checkpoint = mg.load(out / "checkpoint.npz")
    assert checkpoint["seed"] == 3
    assert checkpoint["epochs"] == 1
    assert list(checkpoint["mlp"]) == ["1.weight", "1.bias", "3.weight", "3.bias"]
    assert tuple(checkpoint["cnn"]["0.weight"].shape) == (8, 1, 3, 3)
    assert 0.0 <= checkpoint["cnn_test_accuracy"] <= 1.0
    assert checkpoint["mlp_optimizer"]["state"][0]["step"] == 8


def test_checkpoint_loads_into_demo_model(short_demo):
    from multigrad._cli_demo import build_model, evaluate

    _, out = short_demo
    checkpoint = mg.load(out / "checkpoint.npz")
    model = build_model("mlp")
    model.load_state_dict(checkpoint["mlp"])
    _, test_set = mg.datasets.load_digits()
    assert evaluate(model, test_set) == pytest.approx(checkpoint["mlp_test_accuracy"])


def test_demo_skip_parts(tmp_path, capsys):
    assert main(["demo", "--skip", "mlp", "--skip", "cnn", "--out", str(tmp_path)]) == 0
    assert "Training" not in capsys.readouterr().out
    assert os.listdir(tmp_path) == ["walkthrough_graph.svg"]


@pytest.mark.parametrize("args, message", [
    (["demo", "--epochs", "0"], "multigrad demo: error: argument --epochs: must be a positive integer, got 0"),
    (["demo", "--epochs", "many"], "multigrad demo: error: argument --epochs: invalid int value: 'many'"),
    (["demo", "--seed", "-1"], "multigrad demo: error: argument --seed: must be a non-negative integer, got -1"),
    (["demo", "--lr", "0"], "multigrad demo: error: argument --lr: must be a positive number, got 0.0"),
    (["demo", "--bogus"], "multigrad: error: unrecognized arguments: --bogus"),
    (["demo", "--device", "nosuch"], "multigrad demo: error: device 'nosuch' cannot be used: unknown device type"),
    (["demo", "--device", "opencl:99"], "multigrad demo: error: device 'opencl:99' cannot be used"),
    (["demo", "--device", "numpy:x"], "multigrad demo: error: invalid --device 'numpy:x'"),
    (["frobnicate"], "multigrad: error: argument COMMAND: invalid choice: 'frobnicate'"),
    ([], "multigrad: error: the following arguments are required: COMMAND"),
])
def test_usage_errors_are_one_line(args, message):
    result = run_cli(*args, timeout=60)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(message)
    assert "Traceback" not in result.stderr


def test_out_folder_that_is_a_file(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["demo", "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("multigrad demo: error: cannot create the --out folder")
    assert len(err.splitlines()) == 1


def test_unavailable_backend_is_usage_error(monkeypatch, tmp_path, capsys):
    from multigrad import _cli_demo
    from multigrad.backend import BackendUnavailableError

    def unavailable(device):
        raise BackendUnavailableError("device 'opencl' is not available: no OpenCL platform found")

    monkeypatch.setattr("multigrad._creation.get_backend", unavailable)
    assert main(["demo", "--device", "opencl", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == "multigrad demo: error: device 'opencl' cannot be used: device 'opencl' is not available: " \
                  "no OpenCL platform found\n"
    assert _cli_demo is not None


def test_every_option_documents_its_default():
    from multigrad._cli import build_parser

    parser = build_parser()
    demo = parser._subparsers._group_actions[0].choices["demo"]
    for action in demo._actions:
        if action.dest != "help":
            assert "default" in action.help, action.dest


def test_backends_lists_numpy():
    result = run_cli("backends", timeout=60)
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].startswith("numpy    available")
    assert "  numpy:0" in result.stdout


def test_backends_reports_unavailable_and_failed(monkeypatch, capsys):
    from multigrad import _cli
    from multigrad._plugins import REGISTRY, PluginFailure
    from multigrad.backend import Backend

    class Missing(Backend):
        type_name = "missing"

        @classmethod
        def availability(cls):
            return False, "the driver is not installed"

    monkeypatch.setitem(REGISTRY.types, "missing", Missing)
    monkeypatch.setattr(REGISTRY, "failures", [PluginFailure("broken", "broken-dist", ImportError("no module x"))])
    assert _cli.print_backends() == 0
    out = capsys.readouterr().out
    assert "missing  unavailable" in out
    assert "  reason: the driver is not installed" in out
    assert "failed   plugin 'broken' from distribution 'broken-dist' failed: ImportError: no module x" in out


def test_codegen_subcommand(tmp_path, capsys):
    assert main(["codegen", "--check", "--output", str(tmp_path)]) == 1
    assert "generated code is stale" in capsys.readouterr().err


def test_codegen_help():
    result = run_cli("codegen", "--help", timeout=60)
    assert result.returncode == 0
    assert "--check" in result.stdout


def test_console_script_and_package_data_declared():
    tomllib = pytest.importorskip("tomllib")
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)
    assert project["project"]["scripts"]["multigrad"] == "multigrad._cli:main"
    data = project["tool"]["setuptools"]["package-data"]["multigrad.datasets"]
    assert sorted(data) == ["data/LICENSE", "data/digits.csv.gz"]
