"""Run the code blocks of the docs as doctests, so the tutorial stays true."""

from __future__ import annotations

import doctest
import pathlib
import warnings

import pytest

DOCS = sorted((pathlib.Path(__file__).resolve().parents[1] / "docs").glob("*.md"))


@pytest.mark.parametrize("path", DOCS, ids=[p.name for p in DOCS])
def test_doc_examples(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = doctest.testfile(
            str(path),
            module_relative=False,
            optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
            verbose=False,
            report=True,
        )
    assert result.attempted > 0, f"{path.name} has no doctest examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {path.name} failed (see the output above)"
