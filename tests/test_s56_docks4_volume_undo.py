"""The volume dock's Undo is enabled only when there is something for it to take back: before any acceptance it
looked enabled, in this session and in a dock opened again, and its click only said "nothing accepted to undo"."""

import pandas as pd
import pytest

from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

PLUGIN = "napari-particle-detect"
DOCK = "Volume detection (3D)"

pytestmark = pytest.mark.usefixtures("project_home")


def test_undo_is_enabled_only_with_an_acceptance_to_take_back_also_after_reopening(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    sample = synthesize_volume(VolumeConfig(shape=(12, 40, 40), volume_fraction=0.3, diameter=10.0, z_step=2.0),
                               seed=4)
    viewer.add_image(sample.image, name="vol")
    _, dock = viewer.window.add_plugin_dock_widget(PLUGIN, DOCK)
    assert dock.review is not None and not dock.review_panel.undo_button.isEnabled()

    zyx = sample.centres
    table = pd.DataFrame({"frame": 0, "z": zyx[:, 0], "y": zyx[:, 1], "x": zyx[:, 2], "score": 0.9})
    dock.review.set_detections(table, [0])
    dock.reload_points()
    dock.review_panel.refresh()
    assert not dock.review_panel.undo_button.isEnabled()  # a detection alone is nothing to undo

    dock.review_panel.accept_volume()
    assert dock.review_panel.undo_button.isEnabled()
    dock.review_panel.undo()
    assert not dock.review_panel.undo_button.isEnabled()

    qtbot.waitUntil(lambda: dock._watched_window is not None)  # shown in its window, it hears its X
    viewer.window.remove_dock_widget(dock)
    qtbot.waitUntil(lambda: dock.closed)
    _, dock = viewer.window.add_plugin_dock_widget(PLUGIN, DOCK)
    assert dock.review is not None and not dock.review_panel.undo_button.isEnabled()

    dock.review_panel.accept_volume()
    viewer.window.remove_dock_widget(dock)
    qtbot.waitUntil(lambda: dock.closed)
    _, dock = viewer.window.add_plugin_dock_widget(PLUGIN, DOCK)
    # Opened again, Undo takes back the newest acceptance in the project (VolumeReview.undo after a restart).
    assert dock.review_panel.undo_button.isEnabled()
    dock.review_panel.undo()
    assert dock.review.project.reviewed_areas() == [] and not dock.review_panel.undo_button.isEnabled()
