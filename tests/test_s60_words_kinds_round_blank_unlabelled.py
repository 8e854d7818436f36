"""A rods/chains round's --unlabelled stack with a blank frame (a movie's dropped one, all NaN) was refused whole
("STACK frame 1: image contains NaN or infinite values"); the sphere round passes such a frame over. The kinds
round now does too: a warning naming the file and frame, another frame in its place, one line when none is usable."""

import logging

import numpy as np
import pytest
import tifffile

from napari_particle_detect.cli.kinds import unlabelled_images
from napari_particle_detect.errors import ParticleDetectError


def test_a_blank_unlabelled_frame_is_passed_over_with_a_warning_and_a_spare_taken(tmp_path, caplog):
    rng = np.random.default_rng(0)
    stack = rng.random((5, 64, 64)).astype(np.float32)
    stack[2] = np.nan  # the middle of three spread frames: 0, 2, 4
    stack[4, :4, :4] = np.nan  # a few gaps are filled, not refused
    path = tmp_path / "movie.tif"
    tifffile.imwrite(path, stack)
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        images = unlabelled_images([path], 3)
    said = [r.getMessage() for r in caplog.records]
    assert said == [f"{path} frame 2: every pixel is NaN or infinite (a blank frame): nothing to learn from it"]
    assert len(images) == 3 and all(np.isfinite(image).all() for image in images)
    assert np.array_equal(images[0], stack[0]) and np.array_equal(images[1][4:], stack[4, 4:])
    assert np.array_equal(images[2], stack[1])  # a spare in the blank one's place

    blank = tmp_path / "blank.tif"
    tifffile.imwrite(blank, np.stack([np.full((64, 64), np.nan, np.float32), np.zeros((64, 64), np.float32)]))
    with pytest.raises(ParticleDetectError) as refused:
        unlabelled_images([blank], 8)
    assert str(refused.value) == (f"{blank}: all 2 frames read are blank (constant, or NaN or infinite all over); "
                                  "give --unlabelled images with particles in them, or leave --unlabelled out")


def test_the_docks_kind_round_passes_a_blank_unreviewed_frame_over_for_its_statistics(caplog):
    from types import SimpleNamespace

    from napari_particle_detect.learning.kinds_rounds import unreviewed_images

    stack = np.random.default_rng(1).random((6, 48, 48)).astype(np.float32)
    stack[3] = np.nan  # a dropped frame: left in, every normalised pixel of it was NaN, and the statistics with it
    project = SimpleNamespace(reviewed_frames=[0], polarity="bright")
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        images = list(unreviewed_images(project, stack, 3))  # frames 1, 3 and 5, then a spare
    assert len(images) == 3 and all(np.isfinite(image).all() for image in images)
    assert [r.getMessage() for r in caplog.records] == [
        "frame 3: every pixel is NaN or infinite (a blank frame): nothing to learn from it"]
