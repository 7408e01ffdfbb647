"""Keeping the kiosk's memory bounded over a day of sessions, through glibc's allocator (a no-op elsewhere).

Python's threads (journey worker, capture, camera pump, speech, uvicorn in the demo) each get a malloc arena of
their own by default, and memory freed inside an arena is kept for reuse rather than returned: a session's
frames and model activations leave the process larger after every customer. Two arenas are enough for two cores
(measured with scripts/bench_ui.py: peak RSS over a journey about 100 MB lower), and after each session the
freed memory is handed back to the system.

Large blocks (camera frames, model activations, a recogniser's weights) are mapped on their own and unmapped when
freed. glibc's default raises that threshold to the size of the last such block freed (up to 32 MB), after which
frames and activations land in the heap among long-lived objects and its free space can no longer be returned:
fixed at 128 kB, the peak over two journeys fell from 691 to 627 MB (scripts/bench_ui.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("kiosk.memory")

M_ARENA_MAX = -8  # glibc's mallopt parameter numbers
M_MMAP_THRESHOLD = -3
ARENAS = 2
MMAP_THRESHOLD = 128 * 1024


def _libc():
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _libc()


def tune_malloc() -> bool:
    """Call first thing, before threads start (arenas made before stay). True if the allocator took both."""
    return bool(_LIBC is not None and _LIBC.mallopt(M_ARENA_MAX, ARENAS)
                and _LIBC.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def return_free_memory() -> bool:
    """Hand memory freed in the session (its frames, zeroed and dropped) back to the system."""
    return bool(_LIBC is not None and _LIBC.malloc_trim(0))
