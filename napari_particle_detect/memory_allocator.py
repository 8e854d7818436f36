"""How glibc's malloc treats the blocks of a few megabytes that every frame's detection allocates and frees.

By default glibc maps each block over 128 KiB from the system on its own and hands it back when freed,
so every tile's maps, heatmaps and intermediates are fresh pages that the kernel must zero on first
touch. glibc raises that threshold by itself once a larger mapped block is freed (to that block's size,
up to 32 MiB, and keeps twice as much free memory at the heap's top), so a long session ends up reusing
them, but a fresh process (a command, a test, a benchmark's timing) pays until then, and a session's
speed depended on what it had run before: a 256 px frame of spheres took 18 ms fresh and 14-15 ms after
detecting larger images. At import the package frees one mapped block of WARM_BLOCK, as such a session
would have: glibc's own adjustment then starts from there and goes on as it would.
"""

from __future__ import annotations

import ctypes
import os
import sys

# benchmarks/malloc.py, fresh processes in turn (2 threads, OpenVINO bfloat16; results/malloc.txt), two runs: 256 px
# spheres 1.20x / 1.31x faster than with glibc's defaults, 512 and 2048 px within noise (0.97-1.09x), peak memory of
# a 2048 px detection 841 MB against 788. Fixing glibc's thresholds instead (mallopt, 8 / 16 MiB: glibc's adjustment
# off) peaked at 743 MB but detected 2048 px images with the size estimated 1.06x slower in three turns of three.
WARM_BLOCK = 8 * 2**20
# A user who set any of glibc's own variables has chosen (and turned its adjustment off); nothing is done
# then. Nor where OPT_OUT is set to "glibc".
GLIBC_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")
OPT_OUT = "NAPARI_PARTICLE_DETECT_MALLOC"


def reuse_freed_blocks() -> bool:
    """Free one block of WARM_BLOCK mapped from the system, where the C library is glibc and the user has
    not chosen (GLIBC_VARIABLES, OPT_OUT), so that glibc keeps blocks up to that size for reuse; whether
    it was done."""
    if (not sys.platform.startswith("linux") or any(name in os.environ for name in GLIBC_VARIABLES)
            or os.environ.get(OPT_OUT) == "glibc"):
        return False
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return False
        libc = ctypes.CDLL("libc.so.6")
    except (ValueError, OSError, AttributeError):  # not glibc (musl answers no such name), or no libc.so.6
        return False
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    block = libc.malloc(WARM_BLOCK)
    if not block:
        return False
    libc.free(block)
    return True
