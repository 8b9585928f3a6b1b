"""multigrad-codegen: turns ``ops.yaml`` into ``multigrad/_generated/``.

The registry is loaded into typed dataclasses (:mod:`.model`), validated
(:mod:`.loader`, :mod:`.formula`), then rendered into deterministic Python
(:mod:`.render`). :mod:`.cli` is the command-line entry point.
"""

from .loader import RegistryError, load_registry
from .render import render_all

__all__ = ["RegistryError", "load_registry", "render_all"]
