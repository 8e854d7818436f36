"""The spheres dock as napari quits and as a damaged project opens: napari's Viewer.close removes the layers one by
one, and the dock said each image 'was closed' (with 'nothing comes back' for one of no saved work, while its edits
were being saved as the window closed); a project's opening problems were said twice on one opening."""

import numpy as np
import pandas as pd
import pytest
import tifffile

from helpers import make_widget, notification_count, notifications_since, pick, small_stack
from napari_particle_detect.projects.project import Project

pytestmark = pytest.mark.usefixtures("project_home")


def test_quitting_napari_says_no_image_was_closed_and_keeps_the_last_edit(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 48), name="a")
    viewer.add_image(small_stack(1, 48), name="b")
    widget = make_widget(viewer, None)
    widget.image_combo.setCurrentText("a")
    annotation = widget.annotation
    annotation.ensure_points_layer().add([[0, 20.0, 30.0]])  # a click whose save waits for the drag to settle
    seen = notification_count()
    viewer.close()
    assert not [m for m in notifications_since(seen) if "was closed" in m]
    saved = annotation.project.load_frame(0)
    assert saved is not None and np.allclose(saved[["y", "x"]].to_numpy(), [[20.0, 30.0]])


def test_an_image_the_user_closes_is_still_said_closed(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 48), name="a")
    make_widget(viewer, None)
    seen = notification_count()
    viewer.layers.remove("a")
    assert [m for m in notifications_since(seen) if "was closed" in m] == [
        "'a' was closed; no centres nor reviews of it had been saved, so nothing comes back when it is opened again"]


def test_a_projects_problems_are_said_once_as_it_opens(make_napari_viewer, tmp_path):
    path = tmp_path / "movie.tif"
    tifffile.imwrite(path, small_stack(2, 48))
    project = Project.open(path, n_frames=2, frame_shape=(48, 48))
    for frame in (0, 1):
        project.accept_frame(frame, pd.DataFrame({"frame": frame, "y": [10.0], "x": [12.0], "score": 0.9,
                                                  "source": "accepted"}))
    project.frame_path(1).unlink()
    viewer = make_napari_viewer()
    viewer.open(path, plugin="napari")
    seen = notification_count()
    with pytest.warns(UserWarning, match="frame-0001.csv"):
        widget = make_widget(viewer, None)
    viewer.add_image(small_stack(1, 48), name="other")
    pick(widget, "other")
    pick(widget, "movie")  # the same opening of its project: nothing new to say
    said = [m for m in notifications_since(seen) if " problem: " in m]
    assert len(said) == 1 and "frame-0001.csv" in said[0]
