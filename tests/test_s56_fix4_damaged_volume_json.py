"""A volume project's volume.json cut short (a copy or a sync): the 3D dock refused to reopen the project until the
user moved the file aside, though with the dock open the next Detect writes it again; a voxel size typed meanwhile
showed a red 'unreadable volume settings' error before every Detect; Export refused without a way out. The project
opens (the damage said once), Detect writes the sizes with the voxel size typed, Export says what to do."""

import warnings

import numpy as np
import pandas as pd
import pytest
from napari.utils.notifications import NotificationSeverity, notification_manager

from helpers import notification_count
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.volume_rounds import (
    VolumeSettings, open_volume_project, read_settings, remember_settings,
)
from napari_particle_detect.projects.volume_review import VolumeReview, check_recorded_volume_shape
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

SHAPE = (12, 40, 40)


def _sample() -> np.ndarray:
    return synthesize_volume(VolumeConfig(shape=SHAPE, volume_fraction=0.3, diameter=10.0, z_step=2.0),
                             seed=4).image


def _detect(dock, qtbot) -> None:
    dock.button.click()
    qtbot.waitUntil(lambda: dock.worker is None and dock.points is not None and dock.button.isEnabled(),
                    timeout=60_000)


def _damage(project) -> None:
    settings = project.folder / "volume.json"
    settings.write_text(settings.read_text()[:20])


def _errors_since(seen: int) -> list[str]:
    return [str(n.message) for n in notification_manager.records[seen:] if n.severity == NotificationSeverity.ERROR]


@pytest.mark.usefixtures("project_home")
def test_a_project_with_a_damaged_volume_json_opens_again_and_detect_writes_the_voxel_size_typed(
        make_napari_viewer, qtbot):
    image = _sample()
    viewer = make_napari_viewer()
    viewer.add_image(image, name="vol")
    _, dock = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Volume detection (3D)")
    dock.diameter.setValue(10.0)
    _detect(dock, qtbot)
    project = dock.review.project
    found = len(project.load_all())
    _damage(project)
    viewer.close()

    again = make_napari_viewer()
    again.add_image(image, name="vol")
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        _, dock = again.window.add_plugin_dock_widget("napari-particle-detect", "Volume detection (3D)")
    assert dock.review is not None, dock.status.text()
    assert dock.review.project.folder == project.folder and len(dock.points.data) == found
    assert any("unreadable volume settings" in str(w.message) for w in said)

    dock.voxel[0].setValue(2.0)  # typed, then Detect at once (before the typing pause wrote it)
    dock.voxel[1].setValue(0.5)
    dock.voxel[2].setValue(0.5)
    seen = notification_count()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _detect(dock, qtbot)
    assert _errors_since(seen) == []
    assert read_settings(dock.review.project).voxel_size == (2.0, 0.5, 0.5)


@pytest.mark.usefixtures("project_home")
def test_a_voxel_size_typed_over_a_damaged_volume_json_shows_no_error_before_detect(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.add_image(_sample(), name="vol")
    _, dock = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Volume detection (3D)")
    dock.diameter.setValue(10.0)
    _detect(dock, qtbot)
    _damage(dock.review.project)

    dock.voxel[2].setValue(0.4)
    seen = notification_count()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dock.require_review()  # what Detect, Export and a round ask first
    assert _errors_since(seen) == []


def test_export_over_a_damaged_volume_json_says_the_way_out(tmp_path):
    review = VolumeReview(open_volume_project(tmp_path / "cells.tif", np.zeros((1, 8, 32, 32), np.float32)),
                          (8, 32, 32))
    review.save_edits(0, pd.DataFrame({"frame": 0, "z": [3.0], "y": [10.0], "x": [12.0], "source": "added"}))
    remember_settings(review.project, VolumeSettings((5.0, 10.0, 10.0), (2.0, 0.5, 0.5), (8, 32, 32)))
    _damage(review.project)
    with pytest.raises(ParticleDetectError, match="unreadable volume settings .*; press Detect to write it again"):
        review.export(tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_a_damaged_volume_json_is_said_to_be_used_until_a_detect_writes_it(tmp_path):
    review = VolumeReview(open_volume_project(tmp_path / "cells.tif", np.zeros((1, 8, 32, 32), np.float32)),
                          (8, 32, 32))
    remember_settings(review.project, VolumeSettings((5.0, 10.0, 10.0), None, (8, 32, 32)))
    _damage(review.project)
    # Said also by the Detect that writes them (volume_panel._detected): "the next Detect" read as another one.
    with pytest.warns(UserWarning, match="default particle sizes are used until a Detect writes them again"):
        assert read_settings(review.project, report_damaged=True) is None


def test_a_volume_json_of_wrong_values_still_refuses_with_the_way_out(tmp_path):
    review = VolumeReview(open_volume_project(tmp_path / "cells.tif", np.zeros((1, 8, 32, 32), np.float32)),
                          (8, 32, 32))
    remember_settings(review.project, VolumeSettings((5.0, 10.0, 10.0), None, (8, 32, 32)))
    (review.project.folder / "volume.json").write_text('{"diameter": [1, 2]}')
    with pytest.raises(ParticleDetectError, match="diameter must be three numbers.*; move it aside to open"):
        check_recorded_volume_shape(review.project.folder, (8, 32, 32))
