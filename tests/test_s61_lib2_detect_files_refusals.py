"""detect_files refuses, before any work, what would otherwise read as a run: no paths at all (it returned
"0 done"), and a model file that is not there (each file failed on its own, one line apiece)."""

import numpy as np
import pytest
import tifffile

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files import distributed
from napari_particle_detect.files.file_detection import DetectOptions


def test_no_paths_are_refused_in_one_line(tmp_path):
    with pytest.raises(ValueError, match=r"^detect_files got no paths \(an empty list\): give image files, folders "
                                         r"or glob patterns$"):
        distributed.detect_files([], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_missing_model_is_refused_before_any_file(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for name in ("a.tif", "b.tif"):
        tifffile.imwrite(images / name, np.zeros((32, 32), np.uint8))
    told = []
    missing = tmp_path / "nope.pt"
    with pytest.raises(ParticleDetectError, match=rf"^{missing}: model weights file not found$"):
        distributed.detect_files(images, tmp_path / "out", DetectOptions(diameter=8), model_path=missing,
                                 progress=lambda path, status: told.append((path, status)))
    assert told == [] and not (tmp_path / "out").exists()
