"""How the ``accessaudit`` program asks the C allocator to keep the memory it frees.

An audit makes and frees arrays of tens of megabytes (millions of memberships) one after the
other. glibc serves every allocation above its mmap threshold (at most 32 MB) with a fresh
``mmap`` and hands it back with ``munmap`` when freed, so each new array is memory touched for
the first time: the kernel zeroes it again (on a virtual machine the host may also have to back
it again). At 200,000 people that was 0.6-1.9 s of system time of a ~4 s audit (bench/README.md,
"Load, first-touch memory and growth"). Serving big blocks from the heap and not trimming it
lets freed arrays be reused in place; the peak is about the same, because the peak is the
largest set of arrays alive at once either way.

This is process-wide, so only the program does it (:func:`accessaudit.cli.run`), never the
library and never ``main()``, which tests and tools call in their own processes. Someone who
tunes glibc themselves (``GLIBC_TUNABLES`` or the ``MALLOC_*_`` variables) is left alone.
"""

from __future__ import annotations

import os
import sys

__all__ = ["keep_freed_memory"]

# mallopt(3) parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_LARGEST_INT = 2**31 - 1
_USER_SETTINGS = (
    "GLIBC_TUNABLES",
    "MALLOC_MMAP_MAX_",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_TOP_PAD_",
)


def keep_freed_memory() -> bool:
    """Ask glibc to serve large blocks from the heap and keep freed memory for reuse
    (``mallopt(M_MMAP_MAX, 0)``, ``mallopt(M_TRIM_THRESHOLD, INT_MAX)``). Returns True when
    done; False (nothing changed) on other C libraries or when the user set glibc's own
    variables."""
    if not sys.platform.startswith("linux") or any(name in os.environ for name in _USER_SETTINGS):
        return False
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return False
    except (ValueError, OSError):
        return False
    import ctypes

    mallopt = ctypes.CDLL(None).mallopt
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # Trimming first: with mmap off, a freed block at the top of the heap would otherwise be
    # returned to the system as soon as it passes the (dynamic) trim threshold.
    return bool(mallopt(_M_TRIM_THRESHOLD, _LARGEST_INT)) and bool(mallopt(_M_MMAP_MAX, 0))
