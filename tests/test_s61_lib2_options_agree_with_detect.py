"""detect_files and detect_file refuse, before any work and in detect()'s own words, the device, precision, runtime
and thread count detect() refuses: each failed every file alike, one line apiece."""

import numpy as np
import pytest
import tifffile

from napari_particle_detect import detect
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.distributed import detect_files
from napari_particle_detect.files.file_detection import DetectOptions, detect_file

WRONG = [{"device": "gpu"}, {"precision": "half"}, {"runtime": "tensorrt"}]


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "a.tif"
    tifffile.imwrite(path, np.random.default_rng(0).integers(0, 255, (32, 32), dtype=np.uint8))
    return path


@pytest.mark.parametrize("wrong", WRONG, ids=lambda wrong: next(iter(wrong)))
def test_a_name_detect_refuses_is_refused_before_any_file_in_its_words(tmp_path, image, wrong):
    with pytest.raises(ParticleDetectError) as by_detect:
        detect(np.zeros((32, 32), np.float32), diameter=8, **wrong)
    with pytest.raises(ParticleDetectError) as by_files:
        detect_files([image], tmp_path / "out", DetectOptions(diameter=8, **wrong))
    assert str(by_files.value) == str(by_detect.value)
    assert not (tmp_path / "out").exists()
    with pytest.raises(ParticleDetectError, match=f"^{str(by_detect.value)}$"):
        detect_file(image, DetectOptions(diameter=8, **wrong))


def test_threads_below_one_are_refused_before_any_file(tmp_path, image):
    with pytest.raises(ParticleDetectError, match=r"^threads must be a whole number of threads, at least 1, or None "
                                                  r"\(torch's threads as they are\), got 0$"):
        detect_files([image], tmp_path / "out", DetectOptions(diameter=8, threads=0))
    assert not (tmp_path / "out").exists()


def test_names_in_other_cases_and_a_numbered_gpu_are_taken():
    from napari_particle_detect.detection.choices import check_names

    check_names("CPU", "Float32", "ONNX")
    check_names("cuda:1", None, None)
