"""Where the files shipped inside the package live: the default weights and the sample images.

Both folders are package data, so the same paths hold in a source checkout and in an installed wheel.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
WEIGHTS_DIR = PACKAGE_DIR / "weights"
SAMPLE_DATA_DIR = PACKAGE_DIR / "sample_data"


def is_shipped(weights: Path) -> bool:
    """Whether ``weights`` is one of the models shipped in this install's weights folder."""
    return Path(weights).resolve().parent == WEIGHTS_DIR.resolve()


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
