"""The ``multigrad-codegen`` command."""

from __future__ import annotations

import argparse
import os
import sys

from .loader import RegistryError, load_registry
from .render import render_all

_ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))


def main(argv: list[str] | None = None) -> int:
    """Generate ``multigrad/_generated/`` from ``ops.yaml``; return the exit status."""
    parser = argparse.ArgumentParser(prog="multigrad-codegen", description="Generate multigrad's op functions and Node classes from ops.yaml.")
    parser.add_argument("--registry", default=os.path.join(_ROOT, "ops.yaml"), help="path of the op registry (default: ops.yaml of the checkout)")
    parser.add_argument("--output", default=os.path.join(_ROOT, "multigrad", "_generated"), help="folder to write (default: multigrad/_generated of the checkout)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the generated files differ from what ops.yaml gives")
    args = parser.parse_args(argv)

    try:
        registry = load_registry(args.registry)
    except (RegistryError, OSError) as error:
        print(f"multigrad-codegen: {error}", file=sys.stderr)
        return 2
    files = render_all(registry)

    if args.check:
        stale = []
        for name, text in sorted(files.items()):
            path = os.path.join(args.output, name)
            try:
                with open(path, encoding="utf-8") as f:
                    current = f.read()
            except FileNotFoundError:
                current = None
            if current != text:
                stale.append(path)
        if stale:
            print("multigrad-codegen: generated code is stale; run multigrad-codegen and commit:\n  " + "\n  ".join(stale), file=sys.stderr)
            return 1
        print(f"multigrad-codegen: {len(files)} generated files are up to date ({len(registry.ops)} ops)")
        return 0

    os.makedirs(args.output, exist_ok=True)
    for name, text in sorted(files.items()):
        with open(os.path.join(args.output, name), "w", encoding="utf-8") as f:
            f.write(text)
    print(f"multigrad-codegen: wrote {len(files)} files for {len(registry.ops)} ops to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
