"""detect_files refuses options detect() would refuse, a client that is no dask client and a progress that cannot be
called before any work, in one line naming the argument: each failed every file alike (a diameter given as text as a
raw "TypeError: '>' not supported" per file), or deep in the run, its first file already written."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.distributed import detect_files
from napari_particle_detect.files.file_detection import DetectOptions


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "a.tif"
    tifffile.imwrite(path, np.random.default_rng(0).integers(0, 255, (32, 32), dtype=np.uint8))
    return path


@pytest.mark.parametrize("options, error, words", [
    ({"diameter": "12"}, TypeError, "diameter must be a number (px) or None (estimated), got str '12'"),
    ({"diameter": 0}, ParticleDetectError, "diameter must be a positive number, got 0"),
    ({"threshold": 3}, ParticleDetectError, "threshold must be a number in [0, 1), got 3"),
    ({"polarity": "white"}, ParticleDetectError, "polarity must be auto, bright or dark, got 'white'"),
    ({"kind": "rod"}, ParticleDetectError, "unknown kind 'rod'; choose one of spheres, rods, chains"),
    ({"tile": 0}, ParticleDetectError, "tile must be a whole number of pixels, at least 1, got 0"),
])
def test_options_detect_would_refuse_are_refused_before_any_file(tmp_path, image, options, error, words):
    # DetectOptions refuses them as it is built (test_s61_lib2_options_refused_when_built), before any file.
    with pytest.raises(error) as refused:
        detect_files([image], tmp_path / "out", DetectOptions(**options))
    assert str(refused.value) == words
    assert not (tmp_path / "out").exists()


def test_a_client_or_progress_of_the_wrong_kind_is_refused_before_any_file(tmp_path, image):
    with pytest.raises(TypeError, match=r"^client must be a dask.distributed Client, or None to run here, got str "
                                        r"'tcp://127.0.0.1:8786'; connect .* distributed.Client\(address\)$"):
        detect_files([image], tmp_path / "out", client="tcp://127.0.0.1:8786")
    with pytest.raises(TypeError, match=r"^progress must be a callable taking \(path, status\) or None, got int 3$"):
        detect_files([image], tmp_path / "out", progress=3)
    assert not (tmp_path / "out").exists()
