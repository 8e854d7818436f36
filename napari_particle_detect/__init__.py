"""Find centres of heavily overlapping particles with a lightweight CNN; correct and retrain in napari.

The public API works without Qt:

>>> from napari_particle_detect import synthesize, detect, score
>>> sample = synthesize(seed=1)
>>> table = detect(sample.image)           # frame, y, x, score
"""

import importlib
import os

# OpenMP threads that wait for work by spinning turn a busy laptop into a crawl: torch's CPU
# training ran 15x slower with two threads beside one other busy process (2.96 s a step against
# 0.21 s with passive waiting; one thread: 0.18 s). Read when torch loads, so set before it does.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .errors import ParticleDetectError  # noqa: E402

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
    "ParticleDetectError",
    "SynthConfig",
    "TrainConfig",
    "detect",
    "evaluate_frames",
    "load_model",
    "match",
    "save_model",
    "score",
    "synthesize",
    "train",
]
__version__ = "0.1.0"
