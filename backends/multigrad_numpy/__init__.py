"""The NumPy backend: multigrad's default device, ``"numpy"``.

It registers through the ``multigrad.backends`` entry point like any
third-party backend; see :mod:`multigrad_numpy.plugin`.
"""

from .backend import NumpyBackend

__all__ = ["NumpyBackend"]
