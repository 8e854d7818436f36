"""Tables numbered from other frames than each other (a truth exported with ImageJ's slice numbers, from 1) are
scored with a warning naming both tables' frames, by every evaluator: rods and chains said nothing where their
frames shared no number, and no evaluator said anything where a stack's frames were numbered one apart. A training
table so numbered asks whether it was."""

import logging

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect import evaluate_chains, evaluate_frames, evaluate_rods, evaluate_volumes
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.kinds_training import load_kind_examples
from napari_particle_detect.learning.training import load_examples

LOGGER = "napari_particle_detect"
RODS = pd.DataFrame({"frame": [0, 1, 2], "y": [20.0, 30, 40], "x": [20.0, 30, 40], "angle": [0.0, 45, 90],
                     "length": [20.0, 20, 20], "width": [5.0, 5, 5]})
BEADS = pd.DataFrame({"frame": [0, 0, 1, 1, 2, 2], "y": [10.0, 10, 20, 20, 30, 30], "x": [10.0, 20, 10, 20, 10, 20],
                      "chain": 0, "index": [0, 1] * 3, "closed": 0})


def said(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "frame" in r.getMessage() and "predicted and truth" in
            r.getMessage()]


def test_rods_tables_sharing_no_frame_are_said(caplog):
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        scores, _ = evaluate_rods(RODS.assign(frame=RODS["frame"] + 5), RODS)
    assert scores.f1 == 0.0
    assert said(caplog) == ["predicted and truth share no frame number (predicted: frames 5-7; truth: frames 0-2): "
                            "every frame scores F1 0; number both tables' frames alike"]


def test_a_chains_truth_numbered_from_one_is_said(caplog):
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        evaluate_chains(BEADS, BEADS.assign(frame=BEADS["frame"] + 1))
    assert said(caplog) == ["predicted and truth number their frames one apart (predicted: frames 0-2; truth: frames "
                            "1-3): one counted from 1, as ImageJ's slices are? Frames pair by number, so each is "
                            "scored against its neighbour's truth; number both tables' frames alike (from 0, as "
                            "detect does)"]


def test_sphere_centres_numbered_one_apart_are_said_and_matching_frames_are_not(caplog):
    centres = RODS[["frame", "y", "x"]]
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        evaluate_frames(centres.assign(frame=centres["frame"] + 1), centres)
    assert len(said(caplog)) == 1 and "one apart (predicted: frames 1-3; truth: frames 0-2)" in said(caplog)[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        evaluate_frames(centres, centres)
        evaluate_rods(RODS, RODS)
        evaluate_frames(centres.iloc[:1], centres.iloc[:2])  # one frame predicted of two: no numbering to doubt
        evaluate_frames(centres.iloc[1:2], centres.iloc[:2])  # frame 1 of frames 0-1: a part of the stack
    assert said(caplog) == []


def test_volume_centres_sharing_no_frame_are_said(caplog):
    truth = pd.DataFrame({"frame": [0, 0], "z": [3.0, 6], "y": [10.0, 20], "x": [10.0, 20]})
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        evaluate_volumes(truth.assign(frame=1), truth, scale=(1.0, 1.0, 1.0))
    assert said(caplog) == ["predicted and truth share no frame number (predicted: frame 1; truth: frame 0): every "
                            "frame scores F1 0; number both tables' frames alike"]


def test_a_training_table_numbered_from_one_is_asked_about(tmp_path):
    stack = np.random.default_rng(0).poisson(100, (3, 48, 48)).astype(np.uint16)
    tifffile.imwrite(tmp_path / "s.tif", stack, photometric="minisblack")
    RODS.assign(frame=RODS["frame"] + 1).to_csv(tmp_path / "s.csv", index=False)
    with pytest.raises(ParticleDetectError) as refused:
        load_kind_examples([tmp_path], "rods")
    assert str(refused.value) == (f"{tmp_path / 's.csv'}: frame 3 is beyond the 3 frames of s.tif (0 to 2); its frames "
                                  "run 1 to 3: numbered from 1, as ImageJ numbers its slices? Frames count from 0")
    RODS[["frame", "y", "x"]].assign(frame=[1, 2, 3]).to_csv(tmp_path / "s.csv", index=False)
    with pytest.raises(ParticleDetectError, match="its frames run 1 to 3: numbered from 1"):
        load_examples([tmp_path])
    RODS[["frame", "y", "x"]].assign(frame=[0, 2, 3]).to_csv(tmp_path / "s.csv", index=False)  # a frame too many
    with pytest.raises(ParticleDetectError) as refused:
        load_examples([tmp_path])
    assert str(refused.value) == f"{tmp_path / 's.csv'}: frame 3 is beyond the 3 frames of s.tif (0 to 2)"
