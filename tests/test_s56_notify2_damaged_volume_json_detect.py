"""A volume project's volume.json cut short (a copy or a sync) while the 3D dock is open: the Detect that finished
read it outside any guard, the error escaped the Qt slot (napari aborted) and the centres found were never saved;
an Accept volume was saved but said only the error, its points and Undo not shown. It is reported in the project's
problems, the detection is saved and the sizes written anew, the acceptance said and shown at the default sizes."""

import warnings

import pandas as pd
import pytest
from napari.utils.notifications import NotificationSeverity, notification_manager

from helpers import notification_count, notifications_since
from napari_particle_detect.learning.volume_rounds import VolumeSettings, read_settings, remember_settings
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

pytestmark = pytest.mark.usefixtures("project_home")


def test_a_detect_over_a_volume_json_damaged_meanwhile_is_saved_and_writes_the_sizes_anew(make_napari_viewer,
                                                                                         qtbot):
    viewer = make_napari_viewer()
    sample = synthesize_volume(VolumeConfig(shape=(12, 40, 40), volume_fraction=0.3, diameter=10.0, z_step=2.0),
                               seed=4)
    viewer.add_image(sample.image, name="vol")
    _, dock = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Volume detection (3D)")
    dock.diameter.setValue(10.0)
    dock.button.click()
    qtbot.waitUntil(lambda: dock.points is not None and dock.button.isEnabled(), timeout=60_000)
    project = dock.review.project
    settings = project.folder / "volume.json"
    settings.write_text(settings.read_text()[:20])  # cut short while the dock is open

    dock.diameter.setValue(12.0)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        dock.button.click()
        qtbot.waitUntil(lambda: dock.worker is None and dock.button.isEnabled(), timeout=60_000)
    assert any("volume.json" in str(w.message) for w in said)
    assert any("volume.json" in problem and "unreadable" in problem for problem in project.problems)
    assert "centres; diameter z" in dock.status.text() and "y 12.0" in dock.status.text()
    assert read_settings(project).diameter[1] == 12.0  # written anew
    assert project.saved_frames() == [0] and len(project.load_all()) == len(dock.points.data) > 0
    assert dock.diameter_zyx()[1] == 12.0


def test_an_accept_over_a_volume_json_damaged_meanwhile_is_said_and_shown(make_napari_viewer):
    viewer = make_napari_viewer()
    sample = synthesize_volume(VolumeConfig(shape=(12, 40, 40), volume_fraction=0.3, diameter=10.0, z_step=2.0),
                               seed=4)
    viewer.add_image(sample.image, name="vol")
    _, dock = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Volume detection (3D)")
    zyx = sample.centres
    dock.review.set_detections(pd.DataFrame({"frame": 0, "z": zyx[:, 0], "y": zyx[:, 1], "x": zyx[:, 2],
                                             "score": 0.9}), [0])
    remember_settings(dock.review.project, VolumeSettings((5.0, 10.0, 10.0), None, (12, 40, 40)))
    dock.reload_points()
    settings = dock.review.project.folder / "volume.json"
    settings.write_text(settings.read_text()[:20])  # cut short while the dock is open

    seen = notification_count()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        dock.review_panel.accept_volume()
    assert "volume 0 accepted" in notifications_since(seen)
    assert not [n for n in notification_manager.records[seen:] if n.severity == NotificationSeverity.ERROR]
    assert dock.review.project.reviewed_areas() and dock.review_panel.undo_button.isEnabled()
    assert len(dock.points.data) == len(zyx)
