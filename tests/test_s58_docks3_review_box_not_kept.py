"""A dock closed with its X listed its review box among the layers that "come back when the dock is opened again",
but a box not accepted (Review next's, or one drawn) is kept in no project and did not come back: the line says so."""

import numpy as np
import pytest

from helpers import kinds_dock, notification_count, notifications_since
from napari_particle_detect.synthetic.rods import rod_table

pytestmark = pytest.mark.usefixtures("project_home")


def test_closing_the_rods_dock_says_its_review_box_is_not_kept(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(np.random.default_rng(1).random((48, 48)).astype(np.float32), name="img")
    widget = kinds_dock(viewer, "rods", "img")
    widget.session.set_detections(rod_table([20.0], [24.0], [0.0], [20.0], [4.0]).assign(frame=0, score=0.9), [0])
    widget.session.regions.propose(0, (10.0, 10.0, 30.0, 30.0))  # as Review next proposes one
    assert "img rods review box" in viewer.layers
    seen = notification_count()
    viewer.window.remove_dock_widget(widget)  # its X
    said = [m for m in notifications_since(seen) if "dock was closed" in m]
    assert len(said) == 1, said
    back, _, after = said[0].partition("come back")
    assert "'img rods'" in back and "review box" not in back, said[0]
    assert "'img rods review box' is not kept" in after, said[0]

    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Rods and chains")
    assert "img rods" in viewer.layers and "img rods review box" not in viewer.layers  # as said


def test_a_dock_with_only_its_review_box_says_nothing_comes_back():
    from napari_particle_detect._napari.dock_closing import put_away_words

    said = put_away_words("Rods and chains", ["img rods review box"], "rods")
    assert "come back" not in said and "'img rods review box' is not kept" in said, said


def test_a_review_box_accepted_is_not_said_lost_on_closing(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(np.random.default_rng(1).random((48, 48)).astype(np.float32), name="img")
    widget = kinds_dock(viewer, "rods", "img")
    widget.session.set_detections(rod_table([20.0], [24.0], [0.0], [20.0], [4.0]).assign(frame=0, score=0.9), [0])
    widget.session.regions.propose(0, (10.0, 10.0, 30.0, 30.0))
    widget.review.accept_region()  # the box is taken off the review box layer, its region kept
    seen = notification_count()
    viewer.window.remove_dock_widget(widget)
    said = [m for m in notifications_since(seen) if "dock was closed" in m]
    assert len(said) == 1 and "'img rods reviewed regions'" in said[0], said
    assert "review box" not in said[0], said[0]
