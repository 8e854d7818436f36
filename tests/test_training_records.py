"""What a round and a training run record and say: a round's verdict rests on the user's --validate images alone
when they are given, a child's lineage keeps what its parent started from and learnt from, a Ctrl-C of a rods or
chains training says where --resume goes on, and a frame accepted with a source no project reads is refused."""

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import tifffile
import torch

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.finetune import FINE_TUNE, fine_tune
from napari_particle_detect.learning.training import Example
from napari_particle_detect.models import load_model
from napari_particle_detect.projects.project import Project
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import ctrl_c_once_written, tiny_model_file

TINY_ROUND = replace(FINE_TUNE, steps_per_epoch=2, batch_size=2, crop=32, threads=1, learn_criterion=False)
ROUND_CLI = ["--steps-per-epoch", "2", "--batch-size", "2", "--crop", "32", "--threads", "1", "--diameter", "12",
             "--device", "cpu"]


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("model"))


def _sample(seed: int):
    return synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=seed)


@pytest.fixture(scope="module")
def validated_round(tiny_model):
    """A library round from a parent that was itself a round on pseudo-labels of a recipe's model, scored on one
    --validate image."""
    parent = load_model(tiny_model)
    parent.card.training = {"command": "particle-detect train parent", "init_sha256": "ab" * 32,
                            "fine_tuned": {"examples": 2, "held_out_tiles": 3, "f1": 0.8, "parent_f1": 0.7,
                                           "pseudo_labelled_frames": 1, "pseudo_labelled": ["frame 7"]}}
    data, check = _sample(0), _sample(1)
    result = fine_tune(parent, [Example(data.image, data.centres, scale=1.0, name="frame 0")], TINY_ROUND,
                       device="cpu", validation=[Example(check.image, check.centres, scale=1.0, name="check")])
    return result, len(check.centres)


def test_a_round_with_validation_images_is_judged_on_them_alone(validated_round):
    result, particles = validated_round
    # Every true particle counted is one of the validation image's: none of the data's held-out tiles.
    for scored in (result.score, result.parent_score):
        assert scored.counts.tp + scored.counts.fn == particles
    record = result.model.card.training["fine_tuned"]
    assert result.held_out_tiles == record["held_out_tiles"] == 1
    assert record["scored_on"] == "validation"


def test_a_childs_lineage_says_what_its_parent_started_from_and_learnt_from(validated_round):
    result, _ = validated_round
    parent_entry = result.model.card.training["lineage"][-1]
    assert parent_entry["init_sha256"] == "ab" * 32
    assert parent_entry["fine_tuned"]["pseudo_labelled"] == ["frame 7"]


def test_train_from_a_model_with_validate_says_the_verdict_is_on_the_validate_images(tmp_path, tiny_model, capsys):
    for folder, seeds in (("data", (20,)), ("check", (30, 31))):
        (tmp_path / folder).mkdir()
        for seed in seeds:
            sample = _sample(seed)
            tifffile.imwrite(tmp_path / folder / f"im{seed}.tif", sample.image)
            pd.DataFrame({"y": sample.centres[:, 0], "x": sample.centres[:, 1]}).to_csv(
                tmp_path / folder / f"im{seed}.csv", index=False)
    out = tmp_path / "round"
    assert main(["train", str(tmp_path / "data"), "--from", str(tiny_model), "--validate", str(tmp_path / "check"),
                 "-o", str(out), *ROUND_CLI]) == 0
    err = capsys.readouterr().err
    assert re.search(rf"for {re.escape(str(tiny_model))} on 2 --validate images: (NOT )?better", err), err
    record = load_model(out.with_suffix(".pt")).card.training["fine_tuned"]
    assert (record["held_out_tiles"], record["scored_on"]) == (2, "validation")


def test_a_ctrl_c_of_a_chains_training_says_where_resume_goes_on(tmp_path, capsys):
    check = tmp_path / "check"
    assert main(["-q", "synth", str(check), "--kind", "chains", "--n", "1", "--shape", "48", "48", "--radius", "5", "6",
                 "--beads", "3", "6", "--area-fraction", "0.2"]) == 0
    out = tmp_path / "chains.pt"
    with ctrl_c_once_written(out.with_suffix(".state.pt")):
        code = main(["train", "--kind", "chains", "--validate", str(check / "image_000.tif"), "-o", str(out),
                     "--epochs", "3", "--steps-per-epoch", "30", "--batch-size", "1", "--crop", "32", "--threads", "1",
                     "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 130
    assert re.search(r"^particle-detect: interrupted; --resume continues at (step \d+ of )?epoch [23]$", err, re.M), err


def test_accepting_a_frame_with_an_unknown_source_writes_nothing(tmp_path):
    project = Project.open(tmp_path / "cells.tif", n_frames=3)
    project.accept_frame(0, pd.DataFrame({"y": [5.0], "x": [6.0], "score": [0.9], "source": ["model"]}))
    before = project.load_all()

    with pytest.raises(ParticleDetectError) as refused:
        project.accept_frame(1, pd.DataFrame({"y": [5.0, 9.0], "x": [6.0, 9.0], "score": [0.9, np.nan],
                                              "source": ["added", "typed by hand"]}))
    assert str(refused.value).count("\n") == 0
    assert "unknown source 'typed by hand'" in str(refused.value) and "model, added, accepted" in str(refused.value)

    reopened = Project.open(tmp_path / "cells.tif")
    assert reopened.reviewed_frames == [0] and reopened.saved_frames() == [0] and reopened.problems == []
    pd.testing.assert_frame_equal(reopened.load_all(), before)
