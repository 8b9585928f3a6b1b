"""Parse the index strings of registry samples, such as ``"1:3, None, ::2"``, without ``eval``.

The grammar is the part of Python's subscript syntax that samples need:
integers, slices ``start:stop:step`` with optional parts, ``None``, ``...``
and nested lists of integers or booleans (advanced indices). A top-level
comma makes a tuple, as in ``t[1, 2]``.
"""

from __future__ import annotations

__all__ = ["IndexSyntaxError", "parse_index"]


class IndexSyntaxError(ValueError):
    """Raised when a sample's index string is not valid index syntax."""


def parse_index(text: str):
    """Return the Python index that ``text`` spells: ``"1:3, None"`` gives ``(slice(1, 3), None)``."""
    if not isinstance(text, str):
        raise IndexSyntaxError(f"an index sample must be a string, got {type(text).__name__} {text!r}")
    parts = _split_top_level(text, ",", text)
    if len(parts) == 1:
        return _parse_item(parts[0], text)
    # "1," is a one-element tuple, as in Python.
    if parts[-1].strip() == "":
        parts = parts[:-1]
    return tuple(_parse_item(part, text) for part in parts)


def _split_top_level(text: str, separator: str, whole: str) -> list[str]:
    """Split ``text`` on ``separator`` outside square brackets."""
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth < 0:
                raise IndexSyntaxError(f"unbalanced ']' in index {whole!r}")
        if ch == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if depth != 0:
        raise IndexSyntaxError(f"unbalanced '[' in index {whole!r}")
    parts.append("".join(current))
    return parts


def _parse_item(item: str, whole: str):
    item = item.strip()
    if item == "":
        raise IndexSyntaxError(f"empty index item in {whole!r}")
    if item == "...":
        return Ellipsis
    if item == "None":
        return None
    if item.startswith("["):
        return _parse_list(item, whole)
    if ":" in item:
        pieces = item.split(":")
        if len(pieces) > 3:
            raise IndexSyntaxError(f"slice {item!r} in index {whole!r} has more than three parts")
        bounds = [None if p.strip() == "" else _parse_int(p, whole) for p in pieces]
        return slice(*bounds)
    return _parse_int(item, whole)


def _parse_list(item: str, whole: str) -> list:
    if not item.endswith("]"):
        raise IndexSyntaxError(f"list {item!r} in index {whole!r} must end with ']'")
    inner = item[1:-1].strip()
    if inner == "":
        return []
    values = []
    for part in _split_top_level(inner, ",", whole):
        part = part.strip()
        if part.startswith("["):
            values.append(_parse_list(part, whole))
        elif part in ("True", "False"):
            values.append(part == "True")
        else:
            values.append(_parse_int(part, whole))
    return values


def _parse_int(text: str, whole: str) -> int:
    text = text.strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isdigit():
        raise IndexSyntaxError(f"{text!r} in index {whole!r} is not an integer, slice, None, '...' or list")
    return int(text)
