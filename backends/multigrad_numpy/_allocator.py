"""Tuning of glibc's malloc for the large, short-lived arrays that autograd makes.

Backward frees each saved activation as soon as its node has run. With
glibc's default settings the freed memory at the top of the heap goes back
to the system, so the next gradient array faults its pages in again. On a
100-op chain over 1e6-element float32 arrays that made six times the page
faults of hand-written NumPy and cost about 1.5 times its run time on the
benchmark machine (see BENCHMARKS.md). Keeping freed memory in the process (a higher trim
threshold) and serving large arrays from the heap (a fixed mmap threshold)
removes that cost. Peak memory stays the same, but memory freed after a peak
is kept for reuse instead of being returned to the system.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform

logger = logging.getLogger("multigrad")

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024  # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD_BYTES = 512 * 1024 * 1024

_applied = False


def tune_malloc() -> bool:
    """Apply the malloc settings once per process; return whether they are in effect.

    Set ``MULTIGRAD_NUMPY_TUNE_MALLOC=0`` to keep the C library's defaults.
    Other C libraries than glibc are left alone.
    """
    global _applied
    if _applied:
        return True
    if os.environ.get("MULTIGRAD_NUMPY_TUNE_MALLOC", "1") == "0":
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
        ok = libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1 and ok
    except (OSError, AttributeError) as error:
        logger.debug("could not tune malloc: %s", error)
        return False
    _applied = ok
    logger.debug("malloc tuned: mmap threshold %d bytes, trim threshold %d bytes", MMAP_THRESHOLD_BYTES, TRIM_THRESHOLD_BYTES)
    return ok
