"""What a round says it learned from unreviewed frames is what it learned: a frame its teacher was unsure all
over (its loss masked everywhere) is no frame learned from, and a frame left out because the user edited it
without accepting it is said as such, not as "no other frame is unreviewed"."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from napari_particle_detect.cli.main import main
from napari_particle_detect.learning.finetune import FINE_TUNE, fine_tune, unreviewed_note
from napari_particle_detect.learning.rounds import commit, run_round, unreviewed_text
from napari_particle_detect.models import load_model
from napari_particle_detect.models.registry import WEIGHTS_DIR
from napari_particle_detect.projects.project import Project
from napari_particle_detect.learning.training import Example
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

ROUND = replace(FINE_TUNE, steps_per_epoch=4, batch_size=2, crop=32, threads=1, learn_criterion=False)
# No score reaches pseudo_high and every heatmap pixel is at least pseudo_low: a teacher unsure all over.
UNSURE_ALL_OVER = {"pseudo_high": 1.5, "pseudo_low": 0.0}


@pytest.fixture(scope="module")
def shipped():
    torch.set_num_threads(1)
    return load_model(WEIGHTS_DIR / "unet.pt")


def samples(n: int, seed: int) -> list:
    return [synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=seed + i) for i in range(n)]


def weights(model) -> list[np.ndarray]:
    return [p.detach().numpy().copy() for p in model.network.parameters()]


def test_frames_the_teacher_was_unsure_all_over_are_not_recorded_as_learned_from(shipped):
    reviewed = [Example(s.image, s.centres, 1.0, f"frame {i}") for i, s in enumerate(samples(2, seed=500))]
    unreviewed = [Example(s.image, np.zeros((0, 2)), 1.0, f"frame {i + 2}") for i, s in enumerate(samples(3, 510))]
    unsure = replace(ROUND, unlabelled_frames=3, **UNSURE_ALL_OVER)
    plain = fine_tune(shipped, reviewed, replace(unsure, unlabelled_frames=0), "cpu")
    semi = fine_tune(shipped, reviewed, unsure, "cpu", unlabelled=unreviewed)
    # Nothing was learned from them: the same weights as the round that asked for none.
    assert all(np.array_equal(a, b) for a, b in zip(weights(plain.model), weights(semi.model)))
    record = semi.model.card.training["fine_tuned"]
    assert semi.pseudo_frames == 0 and record["pseudo_labelled"] == [] and record["pseudo_labelled_frames"] == 0
    assert (record["unlabelled_asked"], record["pseudo_unsure"]) == (3, 3)
    # A teacher sure of something: its frames are learned from, none unsure.
    sure = fine_tune(shipped, reviewed, replace(ROUND, unlabelled_frames=3), "cpu", unlabelled=unreviewed)
    record = sure.model.card.training["fine_tuned"]
    assert record["pseudo_labelled"] == ["frame 2", "frame 3", "frame 4"] and record["pseudo_unsure"] == 0


def test_the_note_says_why_a_round_learned_from_fewer_frames_than_asked():
    assert unreviewed_note(["frame 2"], 3, unsure=2) == (
        "also learned from 1 unreviewed frame (frame 2), of 3 asked: the teacher was unsure all over 2 frames")
    assert unreviewed_note([], 3, unsure=3) == (
        "learned from no unreviewed frame, of 3 asked: the teacher was unsure all over 3 frames; a supervised round")
    assert unreviewed_note(["frame 3"], 4, edited=1) == (
        "also learned from 1 unreviewed frame (frame 3), of 4 asked: 1 frame edited but not accepted whole was left "
        "out")
    assert unreviewed_note(["frame 3"], 4, unsure=1, edited=2) == (
        "also learned from 1 unreviewed frame (frame 3), of 4 asked: the teacher was unsure all over 1 frame; "
        "2 frames edited but not accepted whole were left out")
    # As before where nothing else explains it.
    assert unreviewed_note(["frame 3"], 4).endswith("of 4 asked: no other frame is unreviewed")
    assert unreviewed_note([], 2) == "found no unreviewed frame left to learn from (2 asked): a supervised round"
    assert unreviewed_note(["frame 3", "frame 4"], 2, edited=1) == (
        "also learned from 2 unreviewed frames (frame 3, frame 4)")  # got them all: the edited frame is no reason


def test_the_cli_says_the_teacher_was_unsure_all_over_the_frames(tmp_path, capsys):
    import tifffile

    from napari_particle_detect.learning.training import TrainConfig, train

    torch.set_num_threads(1)
    # Barely trained: its heatmap is above the teacher's low threshold all over these frames.
    unsure_model = train(TrainConfig(epochs=1, steps_per_epoch=3, batch_size=2, crop=32, validation_images=2,
                                     validation_size=64, threads=1, device="cpu"), out=tmp_path / "tiny").path
    data = tmp_path / "data"
    data.mkdir()
    for i, sample in enumerate(samples(2, seed=520)):
        tifffile.imwrite(data / f"im{i}.tif", sample.image)
        pd.DataFrame({"y": sample.centres[:, 0], "x": sample.centres[:, 1]}).to_csv(data / f"im{i}.csv", index=False)
    stack = tmp_path / "raw.tif"
    tifffile.imwrite(stack, np.stack([s.image for s in samples(3, seed=530)]))
    out = tmp_path / "tuned.pt"
    capsys.readouterr()
    assert main(["-q", "train", str(data), "--from", str(unsure_model), "-o", str(out), "--unlabelled", str(stack),
                 "--unlabelled-frames", "3", "--steps-per-epoch", "4", "--batch-size", "2", "--crop", "32",
                 "--threads", "1", "--diameter", "12", "--device", "cpu"]) == 0
    record = load_model(out).card.training["fine_tuned"]
    assert record["pseudo_labelled"] == [] and record["pseudo_unsure"] == 3
    said = capsys.readouterr().err.strip().splitlines()
    assert said[-1].endswith("the round learned from no unreviewed frame, of 3 asked: the teacher was unsure all "
                             "over 3 frames; a supervised round")
    assert not any("also learned from" in line for line in said)


def test_a_project_round_says_the_frames_left_out_as_edited_but_not_accepted(tmp_path, shipped, capsys):
    stack = np.stack([s.image for s in samples(4, seed=540)])
    truth = samples(4, seed=540)
    project = Project.open(tmp_path / "img.tif", n_frames=4, frame_shape=(64, 64))
    project.ensure_initial_round(WEIGHTS_DIR / "unet.pt")
    project.remember_detection(12.0, "auto")
    for frame in (0, 1):
        project.accept_frame(frame, pd.DataFrame({"y": truth[frame].centres[:, 0], "x": truth[frame].centres[:, 1]}))
    edited = truth[2].centres[1:]  # the user deleted a point of frame 2 and did not accept it
    project.save_frame(2, pd.DataFrame({"y": edited[:, 0], "x": edited[:, 1], "source": "added", "score": 1.0}))
    project.mark_edited(2)
    outcome = run_round(project, stack, replace(ROUND, unlabelled_frames=4), "cpu")
    info = commit(project, outcome)
    said = ("also learned from 1 unreviewed frame (frame 3), of 4 asked: 1 frame edited but not accepted whole was "
            "left out")
    assert unreviewed_text(info) == said  # it said "no other frame is unreviewed"
    assert (info.unreviewed_frames, info.unreviewed_asked, info.edited_left_out) == ([3], 4, [2])
    # Kept in state.json and read back; a round recorded before the field existed still reads.
    reopened = Project.open(project.folder)
    assert reopened.round(info.number).edited_left_out == [2]
    state = json.loads((project.folder / "state.json").read_text())
    assert state["rounds"][-1]["edited_left_out"] == [2] and state["rounds"][-1]["unreviewed_unsure"] == 0
    capsys.readouterr()
    assert main(["rounds", str(project.folder)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"{info.name} {said}"
