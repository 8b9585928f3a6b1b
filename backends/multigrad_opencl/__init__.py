"""multigrad's OpenCL backend: device arrays (CLArray) and generated OpenCL kernels.

Importing this package works without pyopencl or an OpenCL platform;
``OpenCLBackend.availability()`` then returns the reason and the fix.
"""

from .array import CLArray
from .backend import OpenCLBackend

__all__ = ["CLArray", "OpenCLBackend"]
