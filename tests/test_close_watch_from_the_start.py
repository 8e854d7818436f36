"""A dock watches its window's close from the moment it is in the window: it started one event-loop pass after being
added, or when first shown, so a script adding the docks and closing the viewer at once never shut them down (a
drag's edit waiting to be saved was lost, workers, project locks and lazy files were left behind)."""

import pytest

from helpers import make_widget, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


@pytest.mark.parametrize("show", [False, True], ids=["never shown", "shown"])
def test_a_window_closed_right_after_its_docks_are_added_shuts_every_dock_down(make_napari_viewer, show):
    viewer = make_napari_viewer(show=show)
    viewer.add_image(small_stack(2, 48), name="cells")
    others = [viewer.window.add_plugin_dock_widget("napari-particle-detect", name)[1]
              for name in ("Rods and chains", "Volume detection (3D)")]
    spheres = make_widget(viewer, None)
    project = spheres.annotation.project
    centres = spheres.annotation.ensure_points_layer()
    centres.add([[0, 10, 10]])
    dragged = centres.data.copy()
    dragged[0, 1:] = (20, 30)
    centres.data = dragged  # a drag's edit: saved once the drag settles, or at the close

    viewer.close()  # no event-loop pass since the docks were added

    assert all(dock.closed for dock in (spheres, *others))
    assert project.load_all()[["frame", "y", "x"]].values.tolist() == [[0, 20.0, 30.0]]
