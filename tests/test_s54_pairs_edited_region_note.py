"""A frame edited and accepted in part (a region) is left out of a round's unreviewed frames like one edited and
not accepted at all; the round's note said of it "edited but not accepted", which its accepted region belies."""

from __future__ import annotations

import pandas as pd

from napari_particle_detect.learning.finetune import unreviewed_note
from napari_particle_detect.learning.rounds import TrainedOn
from napari_particle_detect.projects.project import Project


def test_an_edited_frame_with_an_accepted_region_is_said_not_accepted_whole(tmp_path) -> None:
    project = Project.open(tmp_path / "img.tif", n_frames=4, frame_shape=(64, 64))
    points = pd.DataFrame({"y": [5.0, 40.0], "x": [5.0, 40.0], "score": 0.9, "source": "model"})
    for frame in range(4):
        project.save_frame(frame, points.assign(frame=frame))
    project.accept_region(3, (0, 0, 20, 20), project.load_frame(3))
    project.mark_edited(3)
    trained = TrainedOn.now(project)
    assert trained.edited == [3] and trained.regions == 1
    note = unreviewed_note(["frame 1"], 3, edited=len(trained.edited))
    assert note == ("also learned from 1 unreviewed frame (frame 1), of 3 asked: 1 frame edited but not accepted "
                    "whole was left out")
