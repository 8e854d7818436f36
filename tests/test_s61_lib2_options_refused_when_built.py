"""DetectOptions refuses, as it is built, every value detect() refuses of the same argument, in detect()'s words
(DetectOptions(diameter=-1) was taken, and refused only once detect_files or detect_file ran)."""

import numpy as np
import pytest

from napari_particle_detect import detect
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.file_detection import DetectOptions

LIKE_DETECT = [{"diameter": -1}, {"diameter": "12"}, {"threshold": 3}, {"polarity": "white"}, {"kind": "rod"},
               {"tile": 0}, {"batch_size": 0}, {"device": "gpu"}, {"precision": "half"}, {"runtime": "tensorrt"}]


@pytest.mark.parametrize("wrong", LIKE_DETECT, ids=lambda wrong: "-".join(map(str, *wrong.items())))
def test_a_value_detect_refuses_is_refused_as_built(wrong):
    with pytest.raises((ParticleDetectError, TypeError)) as by_detect:
        detect(np.zeros((32, 32), np.float32), **wrong)
    with pytest.raises(type(by_detect.value)) as as_built:
        DetectOptions(**wrong)
    assert str(as_built.value) == str(by_detect.value)


@pytest.mark.parametrize("wrong, words", [
    ({"channel": "1"}, "channel must be a whole number"),
    ({"frames": 5}, "frames must be a frame range's text"),
    ({"frames": "5:5"}, "--frames '5:5'"),
    ({"threads": 0}, "threads must be a whole number of threads, at least 1"),
])
def test_the_options_of_files_alone_are_refused_as_built(wrong, words):
    with pytest.raises((ParticleDetectError, TypeError), match=words):
        DetectOptions(**wrong)


def test_good_options_are_built():
    options = DetectOptions(diameter=12, threshold=0.3, device="CPU", channel=1, frames="0:10", threads=2)
    assert options.diameter == 12 and options.frames == "0:10"
