"""Find centres of heavily overlapping particles with a lightweight CNN; correct and retrain in napari.

The public API works without Qt:

>>> from napari_particle_detect import synthesize, detect, score
>>> sample = synthesize(seed=1)
>>> table = detect(sample.image)           # frame, y, x, score

Volumes (Z, Y, X, or a T, Z, Y, X series) go to ``detect_volumes`` (the shipped 3D model); rods and chains to
``detect(image, kind="rods")`` and are scored by ``evaluate_rods`` / ``evaluate_chains`` (a chains table's
per-chain lengths by ``chain_summary``, its beads filtered by ``keep_beads``); tables are read and
written by ``read_centres`` / ``write_centres``, linked into tracks by ``link_centres``, and a model is
fine-tuned on corrected frames by ``fine_tune``.
"""

import importlib
import os
import sys

# How torch's OpenMP threads wait for work; read when torch loads, so set before it does, and only
# where the user has not chosen. Spinning long turns a busy machine into a crawl (two threads beside
# another job trained 15x slower once), and never spinning makes an idle one pay a wake-up for every
# small operation. On Linux torch's libgomp spins briefly (1000 rounds), then sleeps: a fine-tuning
# round on two 512 px frames took 16.9-17.8 s idle against 20.3-21.9 s waiting passively, and a step
# beside busy jobs took as long as passive's (benchmarks/wait_policy.py; 10000 rounds: 13.4 s idle,
# but 1.3-1.7x slower beside others). OMP_WAIT_POLICY=ACTIVE beside it keeps those 1000 rounds when
# libgomp's threads outnumber the cores, as they do as soon as a second thread runs torch (the docks'
# workers beside the interface thread): without a policy libgomp then cuts spinning to 100 rounds,
# and the dock's round ran as if passive (the same round in a worker thread 12.6-14.0 s against
# 9.7-10.2 s in the main thread; with ACTIVE 9.3-10.2 s in both). ACTIVE is only a spin count to
# libgomp; KMP_BLOCKTIME=0 keeps an LLVM or Intel OpenMP runtime, should one load, from reading it as
# "spin forever". Elsewhere (other OpenMP runtimes, not measured) threads wait passively.
if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    if sys.platform.startswith("linux"):
        os.environ["GOMP_SPINCOUNT"] = "1000"
        os.environ["OMP_WAIT_POLICY"] = "ACTIVE"
        os.environ.setdefault("KMP_BLOCKTIME", "0")
    else:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

from .errors import ParticleDetectError  # noqa: E402
from . import memory_allocator  # noqa: E402

memory_allocator.reuse_freed_blocks()

# The public names load their modules on first use (PEP 562): `particle-detect synth` or `evaluate`
# need neither torch nor the models, and importing torch costs 2-3 s of every command's start.
_PUBLIC = {
    "evaluate_frames": ".kinds.evaluation",
    "match": ".kinds.evaluation",
    "score": ".kinds.evaluation",
    "load_model": ".models",
    "save_model": ".models",
    "detect": ".detection.prediction",
    "SynthConfig": ".synthetic.spheres",
    "synthesize": ".synthetic.spheres",
    "Example": ".learning.training",
    "TrainConfig": ".learning.training",
    "train": ".learning.training",
    "fine_tune": ".learning.finetune",
    "detect_volumes": ".detection.volume_detection",
    "evaluate_volumes": ".kinds.evaluation3d",
    "evaluate_rods": ".kinds.rods",
    "evaluate_chains": ".kinds.chains",
    "chain_summary": ".kinds.chains",
    "keep_beads": ".kinds.chains",
    "read_image": ".files.reading",
    "read_centres": ".files.centre_csv",
    "write_centres": ".files.centre_csv",
    "link_centres": ".files.tracks",
    "LinkOptions": ".files.tracks",
}


def __getattr__(name: str) -> object:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))  # tab completion sees the names not loaded yet


__all__ = [
    "Example",
    "LinkOptions",
    "ParticleDetectError",
    "SynthConfig",
    "TrainConfig",
    "chain_summary",
    "detect",
    "detect_volumes",
    "evaluate_chains",
    "evaluate_frames",
    "evaluate_rods",
    "evaluate_volumes",
    "fine_tune",
    "keep_beads",
    "link_centres",
    "load_model",
    "match",
    "read_centres",
    "read_image",
    "save_model",
    "score",
    "synthesize",
    "train",
    "write_centres",
]
# Raised with each release that changes what detection or training produces: training epochs, resume states and
# recipe phases record it, and a run resumed by another version says so (0.2.0: gaps, moved outputs, upgrades).
__version__ = "0.2.0"
