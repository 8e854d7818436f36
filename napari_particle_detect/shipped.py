"""Where the files shipped inside the package live: the default weights and the sample images.

Both folders are package data, so the same paths hold in a source checkout and in an installed wheel.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
WEIGHTS_DIR = PACKAGE_DIR / "weights"
SAMPLE_DATA_DIR = PACKAGE_DIR / "sample_data"
