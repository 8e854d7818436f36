"""How glibc's malloc treats the blocks of a few megabytes that every frame's detection allocates and frees.

By default glibc maps each block over 128 KiB from the system on its own and hands it back when freed,
so every tile's maps, heatmaps and intermediates are fresh pages that the kernel must zero on first
touch. glibc raises that threshold by itself once a larger block is freed, so a long session ends up
reusing them anyway, but a fresh process (a command, a test, a benchmark's timing) pays until then, and a
session's speed depended on what it had run before: a 256 px frame of spheres took 18 ms fresh and 14-15 ms
after detecting other images. Blocks under MMAP_THRESHOLD now come from the
heap from the start, and the heap keeps up to TRIM_THRESHOLD of free memory at its top for the next frame.
"""

from __future__ import annotations

import ctypes
import os
import sys

# mallopt's parameter numbers (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# benchmarks/malloc.py, fresh processes in turn (2 threads, OpenVINO bfloat16; results/malloc.txt): 256 px spheres
# 14.7 ms against 17.0 with glibc's defaults (1.16x), 512 and 2048 px and rods the same within noise, peak memory
# of a 2048 px detection 743 MB against 786. Set through glibc's variables instead, 32 / 64 MiB was no faster
# than these and peaked at 857-884 MB (large blocks left in holes of the heap).
MMAP_THRESHOLD = 8 * 2**20
TRIM_THRESHOLD = 16 * 2**20
# A user who set any of glibc's own variables has chosen; nothing is changed then. Nor where OPT_OUT is
# set to "glibc": glibc's defaults, dynamic threshold included (setting any of glibc's variables turns that off).
GLIBC_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")
OPT_OUT = "NAPARI_PARTICLE_DETECT_MALLOC"


def reuse_freed_blocks() -> bool:
    """Set glibc's thresholds (MMAP_THRESHOLD, TRIM_THRESHOLD) where the C library is glibc and the user
    has not chosen (GLIBC_VARIABLES, OPT_OUT); whether they were set."""
    if (not sys.platform.startswith("linux") or any(name in os.environ for name in GLIBC_VARIABLES)
            or os.environ.get(OPT_OUT) == "glibc"):
        return False
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return False
        libc = ctypes.CDLL("libc.so.6")
    except (ValueError, OSError, AttributeError):  # not glibc (musl answers no such name), or no libc.so.6
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
