"""Detect over a volume whose edits lie inside its accepted 3D boxes dropped the project's record of them (the 2D
docks keep it): un-accepting the box afterwards, after a reopen, left the volume unmarked, so the point deleted
there was taken for the network's answer and the next Detect replaced the user's work with no Undo."""

import numpy as np
import pandas as pd

from napari_particle_detect.learning.volume_rounds import open_volume_project
from napari_particle_detect.projects.volume_review import VolumeReview

SHAPE = (8, 32, 32)


def _detected(*points) -> pd.DataFrame:
    return pd.DataFrame([(0, *p, 0.9) for p in points], columns=["frame", "z", "y", "x", "score"])


def test_a_point_deleted_inside_an_accepted_box_is_an_edit_again_once_the_box_goes_after_detect(tmp_path):
    volumes = np.zeros((1, *SHAPE), np.float32)
    detection = _detected((4.0, 8.0, 8.0), (4.0, 24.0, 24.0))
    review = VolumeReview(open_volume_project(tmp_path / "cells.tif", volumes), SHAPE)
    review.set_detections(detection, [0])
    kept = review.table(0).iloc[1:]  # the network's point at (8, 8) deleted: an edit the box accepted next holds
    review.save_edits(0, kept)
    review.accept_box(0, (4.0, 4.0, 12.0, 12.0), (2.0, 6.0), kept)
    review.set_detections(detection, [0])  # the box's inside stays as accepted
    assert len(review.table(0)) == 1

    reopened = VolumeReview(open_volume_project(tmp_path / "cells.tif", volumes), SHAPE)
    reopened.undo()  # after a restart: the newest acceptance, the box, taken back
    assert reopened.project.edited_frames == [0]  # the deletion is no longer learned: an edit again
    _, replaced, _ = reopened.set_detections(detection, [0])
    assert replaced == [0]  # replaced one Undo away, and said
    reopened.undo()
    assert len(reopened.table(0)) == 1
