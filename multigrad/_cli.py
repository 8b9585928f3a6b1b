"""The ``multigrad`` command: ``demo``, ``codegen`` and ``backends``.

Usage errors (a bad option, an unknown or unavailable device) print one
line to stderr and exit with status 2, as argparse does.
"""

from __future__ import annotations

import argparse
import sys

EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with the command line or the environment that the user can fix; printed as one line."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line: the problem and where to find help."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``multigrad`` command and its subcommands."""
    parser = _Parser(
        prog="multigrad",
        description="multigrad: eager autograd with PyTorch's semantics. Run a subcommand with --help for its options.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True

    demo = subparsers.add_parser(
        "demo",
        help="walk through autograd step by step, then train an MLP and a CNN on handwritten digits",
        description="Print an autograd walkthrough (values, gradients, hooks, in-place errors) and draw its graph, "
                    "then train a 64-128-10 MLP and a small CNN on the bundled 8x8 digits, report test accuracy "
                    "and write a checkpoint and a loss-curve plot.",
    )
    demo.add_argument("--device", default="numpy", metavar="DEVICE",
                      help="device to run on: numpy, opencl or opencl:N (default: numpy)")
    demo.add_argument("--epochs", type=_positive_int, default=20, metavar="N",
                      help="training epochs per model, each one pass over the training set (default: 20)")
    demo.add_argument("--batch-size", type=_positive_int, default=32, metavar="N",
                      help="examples per training step (default: 32)")
    demo.add_argument("--lr", type=_positive_float, default=None, metavar="RATE",
                      help="Adam learning rate for both models (default: 0.003 for the MLP, 0.01 for the CNN)")
    demo.add_argument("--out", default="multigrad-demo", metavar="DIR",
                      help="folder for the graph picture, the checkpoint and the loss plot; created if missing "
                           "(default: ./multigrad-demo)")
    demo.add_argument("--seed", type=_non_negative_int, default=0, metavar="S",
                      help="seed of the random initial weights and of the shuffle order (default: 0)")
    demo.add_argument("--limit", type=_positive_int, default=None, metavar="N",
                      help="train on only the first N training examples, for a quick run (default: all 1,442)")
    demo.add_argument("--skip", choices=["walkthrough", "mlp", "cnn"], action="append", default=[],
                      help="leave out a part of the demo; may be repeated (default: run all parts)")

    codegen = subparsers.add_parser(
        "codegen", add_help=False,
        help="generate multigrad/_generated/ from ops.yaml (the same as multigrad-codegen; --help for its options)",
    )
    codegen.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

    subparsers.add_parser(
        "backends",
        help="list the backend plugins: device types, devices, availability, and plugins that failed to load",
        description="List the device types that backend plugins provide, their devices and whether they can run, "
                    "and every plugin that failed to load.",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``multigrad`` command and return its exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["codegen"]:
        # Hand every later argument, options included, to the generator's own parser.
        from multigrad_codegen.cli import main as codegen_main

        return codegen_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "backends":
            return print_backends()
        from ._cli_demo import run_demo

        return run_demo(args)
    except UsageError as error:
        print(f"multigrad {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"multigrad {args.command}: interrupted", file=sys.stderr)
        return 130


def print_backends() -> int:
    """Print the device types that plugins provide, with availability, and failed plugins."""
    from ._plugins import REGISTRY

    REGISTRY.load()
    if not REGISTRY.types:
        print("no backends installed")
    for type_name in sorted(REGISTRY.types):
        backend_type = REGISTRY.types[type_name]
        try:
            available, reason = backend_type.availability()
        except Exception as error:  # noqa: BLE001 - a broken plugin is reported, not fatal
            available, reason = False, f"availability check failed: {type(error).__name__}: {error}"
        line = f"{type_name:<8} {'available' if available else 'unavailable'}"
        line += f"  ({backend_type.__module__}.{backend_type.__qualname__})"
        print(line)
        if available:
            try:
                devices = backend_type.device_names()
            except Exception as error:  # noqa: BLE001
                devices = [f"device listing failed: {type(error).__name__}: {error}"]
            for name in devices:
                print(f"  {name}")
        elif reason:
            print(f"  reason: {reason}")
    for failure in REGISTRY.failures:
        print(f"failed   {failure.describe()}")
    return 0
