"""A rods layer the user hid with its eye stays hidden when the dock redraws it (Accept frame, undo): it came back
on every redraw, over the image the user wanted to look at."""

import pytest

from helpers import kinds_dock_detected

from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

pytestmark = pytest.mark.usefixtures("project_home")


def test_a_rods_layer_hidden_by_the_user_stays_hidden_after_accept_and_undo(make_napari_viewer, qtbot):
    sample = synthesize_rods(benchmark_rod_config("fluorescent", 0.15, shape=(96, 96)), seed=4)
    viewer = make_napari_viewer()
    widget = kinds_dock_detected(viewer, qtbot, sample.image, "rods")
    rods = viewer.layers["img rods"]
    assert rods.visible and len(rods.data)
    rods.visible = False  # the user's eye
    widget.session.accept_frame(0)
    assert not rods.visible
    assert rods.editable  # still the session's layer, edits heard
    widget.session.undo()
    assert not rods.visible
