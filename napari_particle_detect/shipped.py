"""Where the files shipped inside the package live: the default weights and the sample images.

Both folders are package data, so the same paths hold in a source checkout and in an installed wheel.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from .errors import ParticleDetectError

PACKAGE_DIR = Path(__file__).resolve().parent
WEIGHTS_DIR = PACKAGE_DIR / "weights"
SAMPLE_DATA_DIR = PACKAGE_DIR / "sample_data"


def is_shipped(weights: Path) -> bool:
    """Whether ``weights`` is one of the models shipped in this install's weights folder."""
    return Path(weights).resolve().parent == WEIGHTS_DIR.resolve()


def refuse_shipped_output(path: Path) -> None:
    """Refuse to write a trained model (or a run's folder) at ``path`` inside the shipped weights folder: it
    would replace a model every detection and round starts from, in every project of this install."""
    if Path(path).resolve().is_relative_to(WEIGHTS_DIR.resolve()):
        raise ParticleDetectError(f"{path}: inside the shipped models' folder {WEIGHTS_DIR}, which training never "
                                  "replaces; write the model outside it")


def model_digest(weights: Path) -> str:
    """SHA-256 of a model's weights and card: the same model wherever a package is installed (its path
    differs from one install to another), read once per process while the files are unchanged."""
    files = [Path(weights), Path(weights).with_suffix(".json")]
    stamp = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files if f.exists())
    return _digest_of(stamp)


@lru_cache(maxsize=16)
def _digest_of(stamp: tuple) -> str:
    digest = hashlib.sha256()
    for name, _, _ in stamp:
        digest.update(Path(name).read_bytes())
    return digest.hexdigest()
