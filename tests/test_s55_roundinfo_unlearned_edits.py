"""A round learns only what was accepted: edits on a frame never accepted, or outside a frame's accepted regions,
are not learned, and the round says so (naming the frames) whether or not it asked for unreviewed frames. A user
who deleted false points and pressed Fine-tune without accepting believed the round had learned them."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from napari_particle_detect._napari.round_progress import verdict
from napari_particle_detect._napari.round_reports import told_verdict
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.rounds import commit, run_round, unlearned_edits_text
from napari_particle_detect.projects.project import Project
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import four_detected_frames, make_widget, run_detect

TINY_TUNE = replace(FINE_TUNE, steps_per_epoch=2, batch_size=2, crop=32, threads=1, learn_criterion=False)


def edited_project(folder, model) -> tuple[Project, np.ndarray]:
    """Four 64 px frames saved with the network's points: frame 0 accepted whole; frame 1 edited (a point
    deleted) and not accepted; frame 2 with a region accepted, then edited; frame 3 untouched."""
    project, frames = four_detected_frames(folder, model)
    for frame in (1, 2):
        if frame == 2:
            project.accept_region(2, (0.5, 0.5, 30.5, 30.5), project.load_frame(2))
        project.mark_edited(frame)
        project.save_frame(frame, project.load_frame(frame).iloc[1:])
    return project, frames


@pytest.mark.parametrize("unreviewed", [0, 2])
def test_a_round_names_the_edited_frames_whose_edits_it_did_not_learn(tmp_path, light_model, unreviewed):
    torch.set_num_threads(1)
    project, stack = edited_project(tmp_path, light_model)
    info = commit(project, run_round(project, stack, replace(TINY_TUNE, unlabelled_frames=unreviewed), "cpu"))
    assert (info.edited_not_accepted, info.edited_in_regions) == ([1], [2])
    said = ("did not learn the edits of frame 1 (not accepted) nor any edits of frame 2 outside its accepted regions: "
            "accept them (or regions around the edits) to teach a round")
    assert unlearned_edits_text(info) == said
    # A supervised round's verdict said nothing of them: the user believed the round had learned the deletions.
    assert told_verdict(info, project.current_round).endswith(f". It {said}")
    # Recorded with the round: a project opened again still says it.
    again = Project.open(tmp_path / "img.tif")
    assert unlearned_edits_text(again.rounds[-1]) == said


def test_a_round_that_learned_every_edit_says_nothing_more(tmp_path, light_model):
    torch.set_num_threads(1)
    project, stack = edited_project(tmp_path, light_model)
    project.accept_frame(1, project.load_frame(1))
    project.accept_frame(2, project.load_frame(2))
    info = commit(project, run_round(project, stack, TINY_TUNE, "cpu"))
    assert (info.edited_not_accepted, info.edited_in_regions, unlearned_edits_text(info)) == ([], [], "")
    assert told_verdict(info, project.current_round) == verdict(info, project.current_round)


def test_a_project_whose_rounds_were_recorded_before_the_edits_were_still_opens(tmp_path, light_model):
    project, _ = edited_project(tmp_path, light_model)
    state_file = project.folder / "state.json"
    state = json.loads(state_file.read_text())
    assert "edited_not_accepted" in state["rounds"][0]
    for info in state["rounds"]:  # as an earlier version wrote them
        del info["edited_not_accepted"], info["edited_in_regions"]
    state["rounds"].append({**state["rounds"][0], "number": 2, "origin": "fine-tuned", "parent": 1,
                            "edited_left_out": [1, 2], "unreviewed_asked": 3})
    state["last_round"] = 2
    state_file.write_text(json.dumps(state))
    old = Project.open(tmp_path / "img.tif").round(2)
    assert (old.edited_left_out, old.edited_not_accepted, old.edited_in_regions) == ([1, 2], [], [])
    assert unlearned_edits_text(old) == ""  # not known for it: nothing said rather than a guess


def test_the_dock_says_which_edits_its_round_did_not_learn(make_napari_viewer, qtbot, light_model, project_home):
    viewer = make_napari_viewer()
    stack = np.stack([synthesize(benchmark_config("fluorescent", 0.5, (64, 64)), seed=s).image for s in range(3)])
    viewer.add_image(stack, name="cells")
    widget = make_widget(viewer, light_model)
    run_detect(widget, qtbot, scope=1)
    viewer.dims.set_current_step(0, 0)
    widget.review.accept_and_next()  # frame 0 accepted; now on frame 1
    layer = widget.annotation.points
    assert (layer.data[:, 0] == 1).sum() >= 2
    layer.selected_data = set(np.flatnonzero(layer.data[:, 0] == 1)[:2])
    layer.remove_selected()  # false points deleted on frame 1, which is not accepted
    widget.finetune.run(TINY_TUNE)
    qtbot.waitUntil(lambda: not widget.finetune.running(), timeout=120_000)
    said = "It did not learn the edits of frame 1 (not accepted)"
    assert said in widget.finetune.status.text()
    trained = widget.finetune.table.item(1, 2)
    assert trained.text() == "1f, 1e not learned"
    assert said in trained.toolTip()
    # A dock opened again tells the last round's verdict from the project's record: it says it too.
    widget.finetune._verdicts.clear()
    widget.finetune._forget_image()
    assert said in widget.finetune.status.text()
