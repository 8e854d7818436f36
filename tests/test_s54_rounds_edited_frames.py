"""A round that also learns from unreviewed frames leaves out the frames the user edited but did not accept: the
teacher pseudo-labelled them as unreviewed, found the points deleted there again, and the round learned them back."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.rounds import commit, run_round, unlabelled_frames, unreviewed_text
from napari_particle_detect.projects.project import Project

from helpers import four_detected_frames

TINY_SEMI = replace(FINE_TUNE, steps_per_epoch=2, batch_size=2, crop=32, threads=1, learn_criterion=False,
                    unlabelled_frames=3)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from napari_particle_detect.models.registry import WEIGHTS_DIR
    return WEIGHTS_DIR / "unet.pt"  # a teacher sure of something on these frames


def detected_project(folder, model) -> tuple[Project, np.ndarray]:
    """Four 64 px frames, each saved with the network's points (source "model"); frame 0 accepted whole, and
    frame 2 edited as the dock saves an edit: marked edited, one network point deleted, not accepted."""
    project, frames = four_detected_frames(folder, model)
    project.mark_edited(2)
    project.save_frame(2, project.load_frame(2).iloc[1:])
    return project, frames


def test_a_round_does_not_pseudo_label_a_frame_edited_but_not_accepted(tmp_path, tiny_model):
    torch.set_num_threads(1)
    project, stack = detected_project(tmp_path, tiny_model)
    assert project.reviewed_frames == [0] and project.edited_frames == [2]
    info = commit(project, run_round(project, stack, TINY_SEMI, device="cpu"))
    assert (info.unreviewed_frames, info.unreviewed_asked) == ([1, 3], 3)
    assert "frame 2" not in unreviewed_text(info)


@pytest.mark.parametrize("how", ["spread", "confident"])
def test_an_edited_frame_with_an_accepted_region_is_not_offered_to_the_teacher(tmp_path, tiny_model, how):
    project, stack = detected_project(tmp_path, tiny_model)
    # Frame 3 had a region accepted and was edited (outside it, for all the project knows): its deletions
    # there leave no trace, so no part of it is the network's unchecked points.
    project.accept_region(3, (0, 0, 20, 20), project.load_frame(3))
    project.mark_edited(3)
    offered = [example.name for example in unlabelled_frames(project, stack, 1.0, how)(4)]
    assert offered == ["frame 1"]
