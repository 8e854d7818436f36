"""glibc's malloc keeps freed blocks of a few megabytes for reuse once the package is imported."""

import os
import subprocess
import sys

import pytest

from napari_particle_detect.memory_allocator import GLIBC_VARIABLES, OPT_OUT

glibc = sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
pytestmark = pytest.mark.skipif(not glibc, reason="glibc's malloc only")

# A fresh interpreter: allocate a 4 MiB block after importing the package and tell whether it was mapped from
# the system on its own (mallinfo2's hblkhd grows) or came from the heap.
PROBE = """
import ctypes
import napari_particle_detect

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype = ctypes.c_void_p
before = libc.mallinfo2().hblkhd
block = libc.malloc(4 << 20)
print("mapped" if libc.mallinfo2().hblkhd - before >= 4 << 20 else "heap")
libc.free(ctypes.c_void_p(block))
"""


def probe(env: dict[str, str]) -> str:
    # Without any malloc setting inherited: dask.distributed's nanny puts MALLOC_TRIM_THRESHOLD_ into this
    # process's environment once a cluster has run (a choice the package then leaves alone, as it should).
    inherited = {k: v for k, v in os.environ.items() if k not in (*GLIBC_VARIABLES, OPT_OUT)}
    result = subprocess.run([sys.executable, "-c", PROBE], env={**inherited, **env}, capture_output=True,
                            text=True, check=True, timeout=60)
    return result.stdout.strip()


def test_blocks_of_a_few_megabytes_come_from_the_heap_after_import():
    assert probe({}) == "heap"


def test_a_users_own_malloc_setting_is_left_alone():
    # 128 KiB is glibc's default: a user who states it gets 4 MiB blocks mapped on their own, as without the package.
    assert probe({"MALLOC_MMAP_THRESHOLD_": str(128 << 10)}) == "mapped"
    # dask.distributed's own setting for its workers (they give memory back at once) is kept too.
    assert probe({"MALLOC_TRIM_THRESHOLD_": "65536"}) == "mapped"


def test_the_opt_out_leaves_glibcs_defaults():
    assert probe({"NAPARI_PARTICLE_DETECT_MALLOC": "glibc"}) == "mapped"
