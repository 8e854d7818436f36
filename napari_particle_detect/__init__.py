"""Find centres of heavily overlapping particles with a lightweight CNN; correct and retrain in napari.

The public API works without Qt:

>>> from napari_particle_detect import synthesize, detect, score
>>> sample = synthesize(seed=1)
>>> table = detect(sample.image)           # frame, y, x, score
"""

from .errors import ParticleDetectError
from .evaluation import evaluate_frames, match, score
from .models import load_model, save_model
from .prediction import detect
from .synthetic import SynthConfig, synthesize
from .training import Example, TrainConfig, train

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
