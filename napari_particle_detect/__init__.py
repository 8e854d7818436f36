"""Find centres of heavily overlapping particles with a lightweight CNN; correct and retrain in napari.

The public API works without Qt:

>>> from napari_particle_detect import synthesize, detect, score
>>> sample = synthesize(seed=1)
>>> table = detect(sample.image)           # frame, y, x, score
"""

import os

# OpenMP threads that wait for work by spinning turn a busy laptop into a crawl: torch's CPU
# training ran 15x slower with two threads beside one other busy process (2.96 s a step against
# 0.21 s with passive waiting; one thread: 0.18 s). Read when torch loads, so set before it does.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .errors import ParticleDetectError  # noqa: E402
from .kinds.evaluation import evaluate_frames, match, score  # noqa: E402
from .models import load_model, save_model  # noqa: E402
from .detection.prediction import detect  # noqa: E402
from .synthetic.spheres import SynthConfig, synthesize  # noqa: E402
from .learning.training import Example, TrainConfig, train  # noqa: E402

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
