"""A frame copied into two places and reviewed differently in each: a round keeps one copy (learning the same pixels
twice made its held-out score dishonest), and says that the other copy's reviews are not learned, rather than
dropping them in silence."""

import logging

import numpy as np

from napari_particle_detect.learning.finetune import distinct_frames
from napari_particle_detect.learning.training import Example


def _example(image: np.ndarray, centres, area=None) -> Example:
    return Example(image=image, centres=np.asarray(centres, float).reshape(-1, 2), scale=1.0, name="img.tif", area=area)


def test_a_copy_reviewed_otherwise_is_said_not_learned(caplog):
    image = np.random.default_rng(0).random((32, 32)).astype(np.float32)
    left = np.zeros((32, 32), bool)
    left[:, :16] = True
    examples = [_example(image, [[5, 5], [20, 8]], left),
                _example(image.copy(), [[20, 8], [5, 5]], left.copy()),  # the same review, centres in another order
                _example(image.copy(), [[5, 5], [20, 8], [10, 25]], ~left)]  # the right half reviewed apart
    names = ["a/img.tif[0]", "b/img.tif[0]", "c/img.tif[0]"]
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        kept, twins = distinct_frames(examples, names)
    assert kept == [0] and twins == {"b/img.tif[0]": "a/img.tif[0]", "c/img.tif[0]": "a/img.tif[0]"}
    said = [record.getMessage() for record in caplog.records if "not learned" in record.getMessage()]
    assert len(said) == 1 and said[0].startswith("c/img.tif[0]: reviewed otherwise than the frame kept"), said
