"""Access to ``multigrad.nn.functional`` for the modules, resolved on first use.

NOTE: the functional ops are written in parallel with these modules; this
proxy lets the modules import before ``functional.py`` exists. Replace it
with a plain ``from .. import functional as F`` once that file has landed.
"""

from __future__ import annotations


class _LazyFunctional:
    def __getattr__(self, name: str):
        from .. import functional

        value = getattr(functional, name)
        setattr(self, name, value)
        return value


F = _LazyFunctional()
