"""The Rods and chains dock and the volume dock name a project made for their image elsewhere (the image moved
out of its folder, the folder renamed), as the Particle detection dock does (locations.projects_elsewhere): they
opened an empty project beside the moved image without a word, the work done on it looking lost."""

import os
import shutil
from dataclasses import replace

import pandas as pd
import pytest
import tifffile

from helpers import kinds_dock, notification_count, notifications_since
from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

PLUGIN = "napari-particle-detect"

pytestmark = pytest.mark.usefixtures("project_home")


def _moved(tmp_path, name: str):
    """The image ``name`` moved out of its folder of images, renamed since: (its new path, its project's old
    folder)."""
    os.rename(tmp_path / "a", tmp_path / "b")
    (tmp_path / "c").mkdir()
    return shutil.move(tmp_path / "b" / name, tmp_path / "c" / name), tmp_path / "b"


def test_the_rods_dock_names_the_project_of_its_image_moved_elsewhere(make_napari_viewer, tmp_path):
    config = benchmark_rod_config("fluorescent", 0.1)
    sample = synthesize_rods(replace(config, optics=replace(config.optics, shape=(96, 96))), seed=7)
    (tmp_path / "a").mkdir()
    tifffile.imwrite(tmp_path / "a" / "rods.tif", sample.image)
    viewer = make_napari_viewer()
    viewer.open(tmp_path / "a" / "rods.tif", plugin="napari")
    widget = kinds_dock(viewer, "rods", "rods")
    assert "found a project" not in widget.status.text()
    widget.session.set_detections(sample.table.assign(frame=0, score=0.9), [0])
    widget.review.accept_frame()
    viewer.layers.clear()

    image, old = _moved(tmp_path, "rods.tif")
    start = notification_count()
    viewer.open(image, plugin="napari")
    found, here = old / "rods.rods.particle-detect", tmp_path / "c" / "rods.rods.particle-detect"
    assert widget.session.project.folder == here and not widget.session.tables  # an empty project, as before
    note = (f"found a project made for this image at {found} (last changed ")
    assert note in widget.status.text() and f"move it to {here} before working" in widget.status.text()
    assert [line for line in notifications_since(start) if note in line] != []

    viewer.layers.clear()
    shutil.move(found, here)  # as the note says: its work is back
    start = notification_count()
    viewer.open(image, plugin="napari")
    assert len(widget.session.tables[0]) == len(sample.table) and widget.session.project.is_reviewed(0)
    assert "found a project" not in widget.status.text()
    assert not [line for line in notifications_since(start) if "found a project" in line]


def test_the_volume_dock_names_the_project_of_its_image_moved_elsewhere(make_napari_viewer, tmp_path):
    sample = synthesize_volume(VolumeConfig(shape=(12, 40, 40), volume_fraction=0.3, diameter=10.0, z_step=2.0),
                               seed=4)
    (tmp_path / "a").mkdir()
    tifffile.imwrite(tmp_path / "a" / "vol.tif", sample.image)
    viewer = make_napari_viewer()
    viewer.open(tmp_path / "a" / "vol.tif", plugin="napari")
    _, dock = viewer.window.add_plugin_dock_widget(PLUGIN, "Volume detection (3D)")
    zyx = sample.centres
    dock.review.set_detections(pd.DataFrame({"frame": 0, "z": zyx[:, 0], "y": zyx[:, 1], "x": zyx[:, 2],
                                             "score": 0.9}), [0])
    dock.reload_points()
    dock.review_panel.accept_volume()
    viewer.layers.clear()

    image, old = _moved(tmp_path, "vol.tif")
    start = notification_count()
    viewer.open(image, plugin="napari")
    found, here = old / "vol.volumes.particle-detect", tmp_path / "c" / "vol.volumes.particle-detect"
    assert dock.review.project.folder == here and not dock.review.project.saved_frames()
    note = f"found a project made for this image at {found} (last changed "
    assert note in dock.status.text() and f"move it to {here} before working" in dock.status.text()
    assert [line for line in notifications_since(start) if note in line] != []
