"""A table read back with the plugin's reader lies on its image however the image is drawn (napari's own
reader: scale 1 in pixels; or in µm), and the volume dock's status and moved points speak of the image
shown (confocal-user audit)."""

import warnings

import numpy as np
import pandas as pd
import pytest
import tifffile

from helpers import notification_count, notifications_since
from napari_particle_detect._napari.reader import get_reader
from napari_particle_detect._napari.volume_panel import VolumeDetectWidget

PLUGIN = "napari-particle-detect"
VOXEL_UM = (0.5, 0.2, 0.2)
SHAPE = (8, 24, 24)


def world(layer) -> np.ndarray:
    return np.asarray(layer.data)[:, -3:] * layer.scale[-3:] + layer.translate[-3:]


def voxel_table(frames=(0, 0, 0)) -> pd.DataFrame:
    """Three 3D centres in voxels with the z_um,y_um,x_um that detect and the dock's Export write."""
    table = pd.DataFrame({"frame": list(frames), "z": [1.0, 4.0, 6.0], "y": [3.0, 12.0, 20.0],
                          "x": [5.0, 10.0, 22.0], "score": 0.9})
    for axis, size in zip("zyx", VOXEL_UM):
        table[f"{axis}_um"] = (table[axis] * size).round(3)
    return table.assign(source="model")


def imagej_volume(path) -> None:
    """An ImageJ hyperstack with its voxel size in the metadata (spacing and resolution, in µm)."""
    tifffile.imwrite(path, np.zeros(SHAPE, np.uint16), imagej=True,
                     resolution=(1 / VOXEL_UM[2], 1 / VOXEL_UM[1]),
                     metadata={"axes": "ZYX", "spacing": VOXEL_UM[0], "unit": "um"})


def open_quietly(viewer, path) -> list:
    """The plugin's layers of ``path``, napari seeing one unit across the layers (it warned otherwise)."""
    seen = notification_count()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layers = viewer.open(str(path), plugin=PLUGIN)
    said = [str(w.message) for w in caught] + notifications_since(seen)
    assert not [line for line in said if "nconsistent units" in line]
    return layers


def test_a_volume_table_lies_on_its_tiff_opened_by_napari_s_own_reader(make_napari_viewer, tmp_path):
    # Drawn at the 0.5 x 0.2 x 0.2 µm its columns give, over the image napari opened at scale 1 in pixels,
    # the centres lay squeezed into the image's corner, napari warning of inconsistent units.
    imagej_volume(tmp_path / "vol.tif")
    viewer = make_napari_viewer()
    [image] = viewer.open(str(tmp_path / "vol.tif"), plugin="napari")
    assert tuple(image.scale) == (1.0, 1.0, 1.0)  # napari's reader ignores the file's voxel size
    table = voxel_table()
    table.to_csv(tmp_path / "vol_3d_centres.csv", index=False)
    seen = notification_count()
    [points] = open_quietly(viewer, tmp_path / "vol_3d_centres.csv")
    np.testing.assert_allclose(world(points), table[["z", "y", "x"]].to_numpy())  # on the image's voxels
    assert [str(u) for u in points.units] == ["pixel"] * 3
    np.testing.assert_allclose(points.features["z_um"], table["z_um"])  # not said by the scale: kept
    assert notifications_since(seen) == [
        "vol_3d_centres.csv: drawn in voxels, as its z,y,x columns are, not by its z_um,y_um,x_um: 'vol' is "
        "drawn at scale 1 in pixels (as napari's own reader opens a TIFF)"]

    # A tracks table (detect's CSV of volumes, linked): points and tracks placed alike, in voxels.
    tracks = voxel_table(frames=(0, 1, 2)).assign(z=[1.0, 1.5, 2.0], y=10.0, x=10.0, particle=3)
    tracks.assign(z_um=tracks["z"] * 0.5, y_um=2.0, x_um=2.0).to_csv(tmp_path / "vol_tracks.csv", index=False)
    points, lines = open_quietly(viewer, tmp_path / "vol_tracks.csv")
    assert type(lines).__name__ == "Tracks"
    assert tuple(points.scale) == tuple(lines.scale) == (1.0,) * 4


def test_a_2d_table_lies_on_its_tiff_opened_by_napari_s_own_reader(make_napari_viewer, tmp_path):
    tifffile.imwrite(tmp_path / "cells.tif", np.zeros((32, 32), np.uint16), imagej=True, resolution=(2.5, 2.5),
                     metadata={"unit": "um"})
    viewer = make_napari_viewer()
    viewer.open(str(tmp_path / "cells.tif"), plugin="napari")
    table = pd.DataFrame({"frame": 0, "y": [4.0, 20.0], "x": [6.0, 30.0], "score": 0.8, "source": "model"})
    table.assign(y_um=table["y"] * 0.4, x_um=table["x"] * 0.4).to_csv(tmp_path / "cells.csv", index=False)
    [points] = open_quietly(viewer, tmp_path / "cells.csv")
    assert tuple(points.scale) == (1.0, 1.0, 1.0)  # frame, y, x
    np.testing.assert_allclose(points.data[:, -2:], table[["y", "x"]].to_numpy())


@pytest.mark.parametrize("units", ["um", None])
def test_a_table_is_drawn_by_its_columns_over_an_image_drawn_at_a_scale(make_napari_viewer, tmp_path, units):
    # An image a reader drew in µm, or one the user scaled (no unit: the table takes none, so napari sees one).
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros(SHAPE, np.uint16), name="vol", scale=VOXEL_UM, units=units)
    table = voxel_table()
    table.to_csv(tmp_path / "vol_3d_centres.csv", index=False)
    seen = notification_count()
    [points] = open_quietly(viewer, tmp_path / "vol_3d_centres.csv")
    np.testing.assert_allclose(points.scale, VOXEL_UM)
    np.testing.assert_allclose(world(points), table[["z_um", "y_um", "x_um"]].to_numpy(), atol=1e-3)
    assert [str(u) for u in points.units] == (["micrometer"] * 3 if units else ["pixel"] * 3)
    assert "z_um" not in points.features.columns  # said by the scale
    how = "in micrometer" if units else "at scale 0.5 x 0.2 x 0.2"
    assert notifications_since(seen) == [f"vol_3d_centres.csv: drawn by its z_um,y_um,x_um columns, as 'vol' is "
                                         f"drawn {how}"]


def test_with_no_viewer_a_table_is_drawn_by_its_columns(tmp_path):
    voxel_table().to_csv(tmp_path / "c.csv", index=False)
    (_, kwargs, _), = get_reader(str(tmp_path / "c.csv"))(str(tmp_path / "c.csv"))
    assert kwargs["scale"] == pytest.approx(VOXEL_UM) and kwargs["units"] == ("micrometer",) * 3


def saved_project_of(dock, viewer, name: str) -> None:
    """``name``'s project holding one volume of centres, as a Detect leaves it."""
    dock.layer_combo.setCurrentText(name)
    dock.review.set_detections(voxel_table().drop(columns=["z_um", "y_um", "x_um", "source"]), [0])


def test_the_volume_dock_speaks_of_the_image_shown(make_napari_viewer, project_home):
    # Picking a never-detected image kept the other's "3 saved centres ... from the project" line, and
    # closing it said its centres were kept in a project it never had.
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros(SHAPE, np.uint16), name="vol")
    viewer.add_image(np.ones(SHAPE, np.uint16), name="fresh")
    dock = VolumeDetectWidget(viewer)
    saved_project_of(dock, viewer, "vol")
    dock.layer_combo.setCurrentText("fresh")
    dock.layer_combo.setCurrentText("vol")
    assert dock.status.text().startswith("3 saved centres of 1 volume from the project")
    dock.layer_combo.setCurrentText("fresh")
    assert dock.status.text() == ""
    assert dock.review_panel.status.text().startswith("volume 0: not accepted")

    seen = notification_count()
    viewer.layers.remove("fresh")
    assert notifications_since(seen) == ["'fresh' was closed; no 3D centres nor reviews of it had been saved, so "
                                         "nothing comes back when it is opened again"]
    assert dock.status.text().startswith("3 saved centres")  # vol is shown again, with its own line
    seen = notification_count()
    viewer.layers.remove("vol")
    assert notifications_since(seen) == ["'vol' was closed; its 3D centres and reviews are kept in its project "
                                         "and come back when it is opened again"]
    assert dock.status.text() == "" and dock.review_panel.status.text().startswith("detect first")


def test_a_network_point_dragged_in_the_volume_dock_is_the_users(make_napari_viewer, project_home):
    # As in the Particle detection dock: moved, it kept 'model' and the score of where it was, so rounds
    # and Review next took it for an uncorrected detection.
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros(SHAPE, np.uint16), name="vol")
    dock = VolumeDetectWidget(viewer)
    saved_project_of(dock, viewer, "vol")
    dock.reload_points()
    points = dock.points
    assert set(points.features["source"]) == {"model"}
    target = points.data[1] + np.array([0.0, 2.0, -1.0])
    # What napari does as a point is dragged in select mode: from where the drag starts, to where it ends.
    points._move([1], tuple(points.data[1]))
    points._move([1], tuple(target))
    points._drag_start = None
    assert points.features["source"].tolist() == ["model", "added", "model"]
    assert np.isnan(points.features["score"].iloc[1]) and points.features["score"].iloc[0] == 0.9
    saved = dock.review.project.load_frame(0)
    moved = saved[np.isclose(saved["y"], target[1]) & np.isclose(saved["x"], target[2])]
    assert moved["source"].tolist() == ["added"] and moved["score"].isna().all()
