"""Utilities; ``multigrad.utils.data`` contains datasets and the DataLoader."""

from . import data

__all__ = ["data"]
