"""Small datasets shipped with multigrad."""

from ._digits import DigitsSplit, load_digits

__all__ = ["load_digits", "DigitsSplit"]
