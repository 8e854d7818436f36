"""The spheres dock after something else hid its centres or closed its window: its status line says the centres are
hidden and how to show them again (it said "N centres shown" over another image picked in the Rods and chains dock),
and a close of a never-shown window that another filter refuses leaves the dock working."""

import pytest

from helpers import kinds_dock, make_widget, pick, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def spheres_dock_with_centres_on(viewer, name: str):
    widget = make_widget(viewer, None)
    pick(widget, name)
    widget.annotation.ensure_points_layer().add([[0, 10, 10], [0, 20, 30]])
    return widget


def test_a_pick_in_another_dock_makes_the_status_line_say_the_centres_are_hidden(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 48), name="cells")
    viewer.add_image(small_stack(2, 48), name="other")
    widget = spheres_dock_with_centres_on(viewer, "cells")
    assert "2 centres shown" in widget.review.status.text()

    rods = kinds_dock(viewer, "rods", "other")
    rods.image_combo.activated.emit(rods.image_combo.findText("other"))  # the user picks 'other' there

    status = widget.review.status.text()
    assert not widget.annotation.points.visible
    assert "shown" not in status.replace("show them", "")
    assert "2 centres hidden" in status and "pick 'cells' in Image" in status
    widget.annotation.points.visible = True  # shown again by its eye, then hidden by it: the user's, not a pick's
    widget.annotation.points.visible = False
    assert "the eye of 'cells centres'" in widget.review.status.text()
    widget.annotation.points.visible = True
    pick(widget, "cells")
    assert widget.annotation.points.visible and "2 centres shown" in widget.review.status.text()
    widget.annotation.points.visible = False  # the user's eye
    assert "the eye of 'cells centres'" in widget.review.status.text()


def test_a_refused_close_of_a_window_never_shown_leaves_the_dock_working(make_napari_viewer, qtbot):
    from test_dock_handles import RefuseClosing

    viewer = make_napari_viewer()  # never shown, as a script's
    viewer.add_image(small_stack(2, 48), name="cells")
    window = viewer.window._qt_window
    refusal = RefuseClosing()
    window.installEventFilter(refusal)  # before the dock's watcher: it hears the Close after the dock does
    widget = spheres_dock_with_centres_on(viewer, "cells")
    rods = kinds_dock(viewer, "rods", "cells")

    assert not window.close()

    assert not widget.closed and not rods.closed
    widget.annotation.points.add([[1, 12, 12]])  # still saved: the dock still hears its layers
    assert len(widget.annotation.project.load_all()) == 3
    window.removeEventFilter(refusal)
    viewer.close()
    assert widget.closed and rods.closed


def test_the_image_worked_on_after_the_picked_one_is_closed_is_shown(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 48), name="under")
    viewer.add_image(small_stack(2, 48), name="over")
    widget = spheres_dock_with_centres_on(viewer, "under")  # 'over', lying over it, is hidden by the pick
    assert not viewer.layers["over"].visible

    viewer.layers.remove("under")

    assert widget.selected_image() is viewer.layers["over"]
    assert viewer.layers["over"].visible  # it was left hidden: the dock spoke of centres over an empty canvas
