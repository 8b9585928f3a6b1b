"""Registry-driven checks for multigrad ops, reusable on any device.

Every op in ``ops.yaml`` declares samples; :func:`load_cases` turns them into
cases, :func:`check_against_reference` runs a case in multigrad on a device and
in a reference (PyTorch, or multigrad on the NumPy device) and compares values
and gradients, and :func:`check_gradcheck` runs gradcheck in float64.
``python -m multigrad.testing DEVICE`` runs them all from the command line.
"""

from __future__ import annotations

from ._index import IndexSyntaxError, parse_index
from .checks import (
    Case, CheckFailure, MissingSamples, SkipCase, check_against_reference, check_gradcheck, collect_cases,
    compare_arrays, default_registry_path, load_cases, resolve_call,
)
from .libraries import Library, MultigradLibrary, TorchLibrary, make_library
from .samples import make_inputs
from .special import SPECIAL_OPS, Equivalent, Skip, Through
from .tolerances import DTYPES, GRADCHECK, TOLERANCES, tolerance

__all__ = [
    "Case", "CheckFailure", "DTYPES", "GRADCHECK", "IndexSyntaxError", "Library", "MissingSamples",
    "MultigradLibrary", "SPECIAL_OPS", "Equivalent", "Skip", "SkipCase", "TOLERANCES", "Through", "TorchLibrary",
    "check_against_reference", "check_gradcheck", "collect_cases", "compare_arrays", "default_registry_path",
    "load_cases", "make_inputs", "make_library", "parse_index", "resolve_call", "tolerance",
]
