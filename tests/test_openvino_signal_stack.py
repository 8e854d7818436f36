"""A network compiled by OpenVINO leaves its thread's signal stack as it was: OpenVINO gave the compiling thread a
signal stack of its own and unmapped it when the network was freed from another thread, and the next signal Python
handled on the thread that compiled it (Ctrl-C, the command line's SIGTERM) was a segmentation fault. It killed a
test worker in CI now and then (the suite then hung), after any test that ran the network on OpenVINO."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

import pytest

from napari_particle_detect.detection.runtimes import CACHE_ENV, openvino_network
from napari_particle_detect.models import load_model

pytest.importorskip("openvino")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="stack_t's layout is Linux's here")


class SignalStack(ctypes.Structure):
    _fields_ = [("ss_sp", ctypes.c_void_p), ("ss_flags", ctypes.c_int), ("ss_size", ctypes.c_size_t)]


def signal_stack() -> tuple:
    """The calling thread's alternate signal stack: (address, flags, size)."""
    stack = SignalStack()
    assert ctypes.CDLL(None).sigaltstack(None, ctypes.byref(stack)) == 0
    return stack.ss_sp, stack.ss_flags, stack.ss_size


def test_compiling_a_network_leaves_the_threads_signal_stack_as_it_was(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    before = signal_stack()
    network = openvino_network(load_model(), "float32", threads=1)
    assert signal_stack() == before
    del network


# Compiled on the main thread, freed on another, then a signal handled by Python on the main thread.
CHILD = """
import gc, signal, sys, threading
from napari_particle_detect.detection.runtimes import openvino_network
from napari_particle_detect.models import load_model

held = [openvino_network(load_model(), "float32", threads=1)]
freeing = threading.Thread(target=lambda: (held.clear(), gc.collect()))
freeing.start()
freeing.join()
seen = []
signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
signal.raise_signal(signal.SIGINT)
print(seen == [signal.SIGINT])
"""


def test_a_signal_after_the_network_was_freed_on_another_thread_is_handled_not_a_crash(tmp_path):
    # A process of its own: before, this died of SIGSEGV.
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=300,
                          env={**os.environ, CACHE_ENV: str(tmp_path), "HOME": str(tmp_path)})
    assert (done.returncode, done.stdout.strip()) == (0, "True"), done.stderr[-2000:]
