"""Review next through a volume to its end: the areas passed over without accepting came back as they do in the
Particle detection dock (the dock said every hesitant volume was reviewed and never proposed them again), and the end
says what it means (it claimed a review nobody made where no centre was ever hesitant)."""

import numpy as np
import pandas as pd

from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.learning.volume_rounds import VolumeSettings, remember_settings


def _dock_with_centres(viewer, score: float) -> VolumeDetectWidget:
    viewer.add_image(np.zeros((12, 64, 64), np.float32), name="vol")
    dock = VolumeDetectWidget(viewer)
    dock.threshold.setValue(0.5)
    remember_settings(dock.review.project, VolumeSettings((2.0, 4.0, 4.0), None, (12, 64, 64)))  # 4 boxes
    grid = [(z, y, x) for z in (3.0, 8.0) for y in (8.0, 40.0) for x in (8.0, 40.0)]
    table = pd.DataFrame(grid, columns=["z", "y", "x"]).assign(frame=0, score=score, source="model")
    dock.review.project.save_frame(0, table[["frame", "z", "y", "x", "score", "source"]])
    dock.reload_points()
    return dock


def test_areas_passed_over_are_proposed_again_after_the_last(make_napari_viewer, project_home):
    dock = _dock_with_centres(make_napari_viewer(), score=0.5)
    panel = dock.review_panel
    first = panel.review_next()
    shown = [first]
    for _ in range(20):
        shown.append(panel.review_next())
        if shown[-1] == first:
            break
    assert shown[-1] == first and len(shown) > 2  # every box once, then the most hesitant again
    assert not [why for why in shown if why.startswith("nothing left")]


def test_the_end_claims_no_review_nobody_made(make_napari_viewer, project_home):
    dock = _dock_with_centres(make_napari_viewer(), score=0.99)  # nothing near the threshold
    said = dock.review_panel.review_next()
    assert said.startswith("nothing left to propose") and "reviewed" not in said
    dock.review_panel.mode_combo.setCurrentIndex(1)  # by volume: the unaccepted volume is still proposed
    assert dock.review_panel.review_next().startswith("volume 0")
    dock.review_panel.accept_volume()
    assert dock.review_panel.review_next() == "nothing left to propose: every volume with centres is accepted"
