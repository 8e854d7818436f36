"""A sphere round's --unlabelled file with nothing to learn from (every frame blank) was refused in detection's
words ("every frame is constant ...; nothing to detect"), a single image named as a frame ("img.tif[0]"): said in
the round's words, with what to do."""

import numpy as np
import pytest
import tifffile

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.pseudo_labels import read_unlabelled

ADVICE = "nothing to learn from; give --unlabelled images with particles in them, or leave --unlabelled out"


def test_an_unlabelled_file_with_nothing_to_learn_from_is_refused_in_the_rounds_words(tmp_path):
    blank = tmp_path / "blank.tif"
    tifffile.imwrite(blank, np.stack([np.full((32, 32), np.nan, np.float32), np.zeros((32, 32), np.float32)]))
    with pytest.raises(ParticleDetectError) as refused:
        read_unlabelled([blank], 15.0)
    assert str(refused.value) == f"{blank}: every frame is blank (constant, or NaN or infinite all over): {ADVICE}"
    one = tmp_path / "one.tif"
    tifffile.imwrite(one, np.full((32, 32), np.nan, np.float32))
    with pytest.raises(ParticleDetectError) as refused:
        read_unlabelled([one], 15.0)
    assert str(refused.value) == f"{one}: a blank image (every pixel is NaN or infinite): {ADVICE}"


def test_a_blank_unlabelled_file_beside_others_is_passed_over_with_a_warning(tmp_path, caplog):
    import logging

    from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

    blank, good = tmp_path / "blank.tif", tmp_path / "good.tif"
    tifffile.imwrite(blank, np.zeros((64, 64), np.float32))
    tifffile.imwrite(good, synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=0).image)
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        examples = read_unlabelled([blank, good], 15.0)(4)
    assert [e.name for e in examples] == [f"{good}[0]"]
    assert caplog.messages == [f"{blank}: a blank image (every pixel is 0): nothing to learn from it; the other "
                               "--unlabelled files are used"]
