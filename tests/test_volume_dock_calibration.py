"""The volume dock and the reader with a confocal user's calibrations, for real in napari: a µm scale
(read-back placement, units), napari's default 'pixel' scale (an aspect, not µm), a ZCYX file's
channels, and a 3D table of one later time point."""

import numpy as np
import pandas as pd
import pytest
import tifffile

from helpers import notification_count, notifications_since
from napari_particle_detect._napari.reader import get_reader
from napari_particle_detect._napari.volume_panel import VolumeDetectWidget, layer_voxel_size
from napari_particle_detect.projects.volume_review import export_volume_table
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

PLUGIN = "napari-particle-detect"
SMALL = VolumeConfig(shape=(16, 48, 48), volume_fraction=0.3, diameter=10.0, z_step=2.5)
VOXEL_UM = (0.5, 0.2, 0.2)


def detect(dock, qtbot) -> None:
    dock.diameter.setValue(10.0)
    dock.button.click()
    qtbot.waitUntil(lambda: dock.points is not None and dock.button.isEnabled(), timeout=60_000)


def world(layer) -> np.ndarray:
    """A points layer's positions where napari draws them, sorted so two layers compare row for row."""
    positions = np.array([layer.data_to_world(p) for p in layer.data])
    return positions[np.lexsort(positions.T[::-1])]


def test_an_exported_3d_table_is_read_back_over_its_micrometre_image(make_napari_viewer, tmp_path):
    # Read back in voxels at scale 1, the centres lay 2.5x too high in z and 5x off in y and x.
    viewer = make_napari_viewer()
    image = viewer.add_image(np.zeros(SMALL.shape, np.uint16), name="vol", scale=VOXEL_UM, units="um")
    voxels = pd.DataFrame({"frame": 0, "z": [3.0, 10.0], "y": [12.0, 30.0], "x": [5.0, 41.0], "score": 0.9,
                           "source": "model"})
    path = export_volume_table(voxels, tmp_path / "vol_3d_centres.csv", VOXEL_UM)
    read = viewer.open(str(path), plugin=PLUGIN)[0]
    np.testing.assert_allclose(read.data, voxels[["z", "y", "x"]].to_numpy())  # still voxels...
    np.testing.assert_allclose(read.scale, image.scale)  # ...drawn at the image's voxel size
    assert read.units == image.units and viewer.layers.extent.units is not None
    np.testing.assert_allclose(world(read), voxels[["z", "y", "x"]].to_numpy() * VOXEL_UM)
    assert not {"z_um", "y_um", "x_um"} & set(read.features.columns)  # said by the scale now

    tracks = voxels.assign(frame=[0, 1], particle=[7, 7], z_um=voxels["z"] * 0.5, y_um=voxels["y"] * 0.2,
                           x_um=voxels["x"] * 0.2)
    tracks.to_csv(tmp_path / "tracks.csv", index=False)
    layers = get_reader(str(tmp_path / "tracks.csv"))(str(tmp_path / "tracks.csv"))
    (_, points, _), (_, track_kwargs, kind) = layers
    assert kind == "tracks" and track_kwargs["scale"] == points["scale"] == pytest.approx((1.0, *VOXEL_UM))


def test_a_3d_table_of_one_later_time_point_keeps_its_time_point(tmp_path):
    # Only frame 2: read as (z, y, x) points, they showed at every time point of a TZYX image.
    path = tmp_path / "t2.csv"
    table = pd.DataFrame({"frame": 2, "z": [1.0, 4.0], "y": [3.0, 9.0], "x": [5.0, 7.0], "score": 0.8})
    table.to_csv(path, index=False)
    (data, kwargs, _), = get_reader(str(path))(str(path))
    assert kwargs["ndim"] == 4
    np.testing.assert_allclose(data, [[2.0, 1.0, 3.0, 5.0], [2.0, 4.0, 9.0, 7.0]])


def test_detect_on_a_micrometre_image_gives_points_in_its_units(make_napari_viewer, qtbot, project_home, tmp_path):
    # Points in napari's default 'pixel' over a µm image: napari warned "Inconsistent units across layers" at
    # every Detect and stopped using the units.
    viewer = make_napari_viewer()
    sample = synthesize_volume(SMALL, seed=4)
    image = viewer.add_image(sample.image, name="vol", scale=VOXEL_UM, units="um")
    dock = VolumeDetectWidget(viewer)
    assert [s.value() for s in dock.voxel] == pytest.approx(VOXEL_UM) and dock.voxel[0].suffix() == " µm"
    detect(dock, qtbot)
    assert dock.points.units == image.units and viewer.layers.extent.units is not None
    np.testing.assert_allclose(dock.points.scale, image.scale)
    table = pd.read_csv(dock.review_panel.export(tmp_path / "c.csv"))
    np.testing.assert_allclose(table["z_um"], table["z"] * 0.5, atol=1e-3)
    # The review box and the accepted boxes too: they were added in napari's pixel units, and warned again.
    dock.review_panel.draw_box()
    dock.review_panel.accept_box((4.0, 4.0, 30.0, 30.0))
    for name in ("3D review box", "accepted 3D boxes"):
        assert viewer.layers[name].units == image.units, name
        np.testing.assert_allclose(viewer.layers[name].scale, image.scale)


def test_a_scale_in_napari_pixel_units_is_an_aspect_not_micrometres(make_napari_viewer, qtbot, project_home,
                                                                      tmp_path):
    # scale=(2.5, 1, 1) with no units was shown as 2.5 x 1 x 1 µm and exported y_um = y.
    viewer = make_napari_viewer()
    image = viewer.add_image(synthesize_volume(SMALL, seed=4).image, name="vol", scale=(2.5, 1.0, 1.0))
    assert layer_voxel_size(image) == ((2.5, 1.0, 1.0), "pixel")
    dock = VolumeDetectWidget(viewer)
    assert [s.value() for s in dock.voxel] == [2.5, 1.0, 1.0] and dock.voxel[0].suffix() == " pixel"
    detect(dock, qtbot)
    assert "diameter z 4.0, y 10.0, x 10.0" in dock.status.text()  # z still sized from the aspect
    table = pd.read_csv(dock.review_panel.export(tmp_path / "aspect.csv"))
    assert not {"z_um", "y_um", "x_um"} & set(table.columns)

    for spin, size in zip(dock.voxel, VOXEL_UM):  # typed: micrometres
        spin.setValue(size)
    assert dock.voxel[0].suffix() == " µm"
    table = pd.read_csv(dock.review_panel.export(tmp_path / "typed.csv"))
    np.testing.assert_allclose(table["y_um"], table["y"] * 0.2, atol=1e-3)

    nm = viewer.add_image(np.zeros((8, 16, 16)), name="nm", scale=(500.0, 200.0, 200.0), units="nm")
    assert layer_voxel_size(nm) == (pytest.approx(VOXEL_UM), "µm")


def test_a_zcyx_file_opened_whole_is_refused_as_channels_not_run_as_time_points(
        make_napari_viewer, qtbot, project_home, tmp_path):
    # napari opens an ImageJ ZCYX as one 4D layer: the dock took it for TZYX and Detect failed on "too few
    # voxels" for volumes of 2 slices.
    sample = synthesize_volume(SMALL, seed=4)
    path = tmp_path / "conf.tif"
    tifffile.imwrite(path, np.stack([sample.image, sample.image[:, ::-1].copy()], axis=1), imagej=True,
                     resolution=(5.0, 5.0), metadata={"axes": "ZCYX", "spacing": 0.5, "unit": "um"})
    viewer = make_napari_viewer()
    whole = viewer.open(str(path), plugin="napari")[0]
    assert whole.data.shape == (16, 2, 48, 48)
    dock = VolumeDetectWidget(viewer)
    assert dock.axes_combo.currentText() == "ZCYX" and dock.review is None
    note = dock.axes_note.text()
    assert note.startswith("conf holds 2 channels (ZCYX)") and "channel_axis=1" in note
    start = notification_count()
    dock.button.click()
    assert notifications_since(start) == [note] and dock.worker is None and dock.points is None

    channels = viewer.open(str(path), plugin="napari", channel_axis=1)
    folders = set()
    for layer in channels:  # each channel a volume, with the file's voxel size and a review of its own
        dock.layer_combo.setCurrentText(layer.name)
        assert dock.axes_combo.currentText().startswith("ZYX") and dock.review is not None
        assert [s.value() for s in dock.voxel] == pytest.approx(VOXEL_UM) and dock.voxel[0].suffix() == " µm"
        folders.add(dock.review.project.folder)
    assert len(folders) == 2
