"""Lines a user reads from single-frame detection and from training: a frame named once, no "rest of the stack"
where no other frame was asked for, a blank unreviewed frame that does not fail a round after its training, the
rods' F1 beside their validation score, and a count's plural."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import numpy as np
import pytest

from helpers import tiny_model_file
from napari_particle_detect.cli.bars import epoch_line
from napari_particle_detect.cli.kinds import saved_line
from napari_particle_detect.detection.prediction import detect, detect_frame
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.pseudo_labels import label_frame
from napari_particle_detect.models import load_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return load_model(tiny_model_file(tmp_path_factory.mktemp("s59-cli2-model")), "cpu")


def test_a_frame_its_caller_named_is_named_once(tiny):
    with pytest.raises(ParticleDetectError) as refused:
        detect_frame(tiny, np.full((32, 32), np.nan, np.float32), name="unl/b/img.tif[0]")
    assert str(refused.value) == "unl/b/img.tif[0]: every pixel is NaN or infinite; nothing to detect"


def test_a_blank_unreviewed_frame_teaches_nothing_and_fails_no_round(tiny, caplog):
    image = np.full((32, 32), 7.0, np.float32)  # a shutter frame of a movie nobody reviewed
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        label = label_frame(tiny, image, 1.0, "unl/b/img.tif[4]")
    assert not label.example.area.any() and label.confident == 0 and not len(label.example.centres)
    assert caplog.messages == ["unl/b/img.tif[4]: every pixel is 7 (a blank frame): nothing to learn from it"]


def test_the_one_blank_frame_asked_for_says_no_rest_of_the_stack(tiny, caplog):
    stack = np.random.default_rng(0).random((3, 48, 48), dtype=np.float32)
    stack[1] = np.nan
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        table = detect(stack, tiny, "cpu", diameter=8.0, frames=[1], name="bad.tif")
    said = [m for m in caplog.messages if "blank frame" in m]
    assert table.empty and said == ["bad.tif frame 1: every pixel is NaN or infinite (a blank frame): no centres"]


def test_a_rods_epoch_and_its_saved_model_say_the_rods_f1():
    record = {"epoch": 2, "epochs": 2, "loss": 0.42, "score": -2.1884, "rod_f1": 0.4567, "threshold": 0.2,
              "seconds": 17.0}
    assert epoch_line(record) == ("epoch 2/2: loss 0.4200, validation score -2.1884 (rod F1 0.46) at threshold "
                                  "0.20 (17 s)")
    chains = {key: value for key, value in record.items() if key != "rod_f1"}
    assert epoch_line(chains) == "epoch 2/2: loss 0.4200, validation score -2.1884 at threshold 0.20 (17 s)"
    training = {"validation_score": -2.0643, "best_epoch": 1, "config": {"validation_images": 8},
                "history": [{**record, "epoch": 1, "score": -2.0643, "rod_f1": 0.5}, record]}
    model = SimpleNamespace(path="r.pt", card=SimpleNamespace(kind="rods", training=training))
    assert saved_line(model, 0) == ("saved r.pt (rods model, validation score -2.0643 (rod F1 0.50) on 8 generator "
                                    "images)")
    # Epoch 1 stopped by --minutes and resumed: a record of each part; the rod F1 is the kept score's own.
    training["history"] = [{**record, "epoch": 1, "score": -2.0864, "rod_f1": 0.5031},
                           {**record, "epoch": 1, "score": -2.0643, "rod_f1": 0.5192}, record]
    assert saved_line(model, 0) == ("saved r.pt (rods model, validation score -2.0643 (rod F1 0.52) on 8 generator "
                                    "images)")


def test_a_kind_rounds_statistics_frames_are_counted_in_words():
    from napari_particle_detect.cli.kinds import round_model_line  # the line _kind_round logs

    assert round_model_line({"candidate": "trained", "statistics_frames": 1}) == \
        "the round's model: trained (statistics candidate from 1 frame)"
    assert round_model_line({"candidate": "trained", "statistics_frames": 3}).endswith("from 3 frames)")


def test_unlabelled_frames_are_sized_on_the_first_frame_with_something_in_it(tmp_path):
    import tifffile

    from napari_particle_detect.learning.pseudo_labels import read_unlabelled
    from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

    frames = [synthesize(benchmark_config("fluorescent", 0.3, (64, 64)), seed=s).image.astype(np.float32)
              for s in range(2)]
    movie, plain = tmp_path / "movie.tif", tmp_path / "plain.tif"
    tifffile.imwrite(movie, np.stack([np.zeros_like(frames[0]), *frames]))  # the shutter still closed at frame 0
    tifffile.imwrite(plain, np.stack(frames))
    sized = {example.scale for example in read_unlabelled([movie], 15.0)(3)}
    assert sized == {read_unlabelled([plain], 15.0)(1)[0].scale}
