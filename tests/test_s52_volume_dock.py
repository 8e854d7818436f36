"""The volume dock used as a new user does: its box layers renamed, a file's channels opened as layers of their own."""

import numpy as np
import pandas as pd
import tifffile
from napari.layers import Shapes

from napari_particle_detect._napari.volume_panel import VolumeDetectWidget


def hand_placed_centres(dock, layer) -> None:
    """A few centres placed by hand and saved, as a user's edits are (no detection needed to accept boxes)."""
    table = pd.DataFrame({"frame": 0, "z": [3.0, 6.0], "y": [10.0, 30.0], "x": [10.0, 30.0], "score": np.nan,
                          "source": "added"})
    dock.show_points(layer, table, 10.0, 5.0)
    dock.review.save_edits(0, dock.table_of(0))


def test_renamed_box_layers_are_reused_and_put_away_with_their_image(make_napari_viewer, project_home):
    viewer = make_napari_viewer()
    rng = np.random.default_rng(0)
    vol = viewer.add_image(rng.random((12, 40, 40)).astype(np.float32), name="vol")
    viewer.add_image(rng.random((12, 40, 40)).astype(np.float32), name="other")
    dock = VolumeDetectWidget(viewer)
    dock.layer_combo.setCurrentText("vol")
    assert dock.review is not None
    hand_placed_centres(dock, vol)
    panel = dock.review_panel

    panel.set_z_range(0, 5)
    panel.accept_box((0.0, 0.0, 20.0, 20.0))
    boxes = [layer for layer in viewer.layers if isinstance(layer, Shapes)]
    assert len(boxes) == 1
    boxes[0].name = "my boxes"
    panel.draw_box()
    draft = viewer.layers.selection.active
    draft.name = "my draft"

    panel.draw_box()  # drawn again: in the layer renamed, not a new one
    assert viewer.layers.selection.active is draft
    draft.add_rectangles(np.array([[3, 22, 22], [3, 22, 38], [3, 38, 38], [3, 38, 22]], float))
    panel.accept_box()
    shapes = [layer.name for layer in viewer.layers if isinstance(layer, Shapes)]
    assert sorted(shapes) == ["my boxes", "my draft"]  # no second layer of the same boxes
    assert len(viewer.layers["my boxes"].data) == 2 * 6  # both boxes, outlined on each of the 6 slices they span

    dock.layer_combo.setCurrentText("other")  # another image: this one's layers leave, renamed or not
    assert not [layer for layer in viewer.layers if isinstance(layer, Shapes)]


def test_a_split_channel_keeps_its_project_by_file_and_channel_not_by_layer_name(make_napari_viewer, project_home,
                                                                                 tmp_path):
    # napari names a file's channels after the file and what else is open ('conf [2]' beside the whole file, 'conf [1]'
    # alone): a project named after the layer was another, empty one once the channel was opened again.
    rng = np.random.default_rng(1)
    path = tmp_path / "conf.tif"
    tifffile.imwrite(path, rng.integers(0, 255, (12, 2, 40, 40), dtype=np.uint8), imagej=True,
                     metadata={"axes": "ZCYX"})
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="napari")
    dock = VolumeDetectWidget(viewer)
    second = viewer.open(str(path), plugin="napari", channel_axis=1)[1]
    dock.layer_combo.setCurrentText(second.name)
    folder = dock.review.project.folder
    assert folder.parent == tmp_path and folder.name.startswith("conf-")  # beside the file, named for the channel
    assert dock.default_export_path().name.startswith("conf-") and "[" not in dock.default_export_path().name
    hand_placed_centres(dock, second)

    viewer.layers.clear()
    again = viewer.open(str(path), plugin="napari", channel_axis=1)[1]  # the same channel, now named otherwise
    assert again.name != second.name
    dock.layer_combo.setCurrentText(again.name)
    assert dock.review.project.folder == folder
    assert dock.points is not None and len(dock.points.data) == 2  # the centres saved on it are back


def test_file_save_of_3d_centres_writes_z_not_a_frame_and_reads_back_where_they_were(make_napari_viewer,
                                                                                     project_home, tmp_path):
    # The plugin's writer took a volume's (z, y, x) for (frame, y, x): z rounded into 'frame', and a series' (frame,
    # z, y, x) was refused.
    viewer = make_napari_viewer()
    vol = viewer.add_image(np.zeros((12, 40, 40), np.float32), name="vol", scale=(2.0, 0.5, 0.5),
                           translate=(4.0, 0.0, 0.0), units="um")
    dock = VolumeDetectWidget(viewer)
    hand_placed_centres(dock, vol)
    dock.points.add([[4.4, 20.0, 25.0]])
    viewer.layers.selection.active = dock.points
    [saved] = viewer.layers.save(str(tmp_path / "saved.csv"), selected=True, plugin="napari-particle-detect")
    table = pd.read_csv(saved)
    assert list(table.columns[:4]) == ["frame", "z", "y", "x"] and (table["frame"] == 0).all()
    np.testing.assert_allclose(np.sort(table["z"]), [3.0, 4.4, 6.0])
    np.testing.assert_allclose(table["z_um"], table["z"] * 2.0 + 4.0)  # where napari draws them, as Export writes

    [back] = viewer.open(saved, plugin="napari-particle-detect")
    world = lambda layer: np.sort([layer.data_to_world(p) for p in layer.data], axis=0)  # noqa: E731
    np.testing.assert_allclose(world(back), world(dock.points), atol=1e-3)

    series = viewer.add_points(np.array([[0, 1.5, 2.0, 3.0], [1, 2.5, 4.0, 5.0]]), name="series")
    viewer.layers.selection.active = series
    [saved] = viewer.layers.save(str(tmp_path / "series.csv"), selected=True, plugin="napari-particle-detect")
    table = pd.read_csv(saved)
    assert table[["frame", "z", "y", "x"]].values.tolist() == [[0, 1.5, 2.0, 3.0], [1, 2.5, 4.0, 5.0]]


def test_an_export_of_an_image_drawn_at_an_aspect_reads_back_on_its_centres(make_napari_viewer, project_home,
                                                                            tmp_path):
    # scale=(2, 1, 1) in napari's 'pixel' gives the z/xy aspect only, so Export writes no z_um,y_um,x_um; read back,
    # the table was drawn at scale 1: every centre at half its depth.
    viewer = make_napari_viewer()
    conf = viewer.add_image(np.zeros((12, 40, 40), np.float32), name="conf", scale=(2.0, 1.0, 1.0))
    dock = VolumeDetectWidget(viewer)
    hand_placed_centres(dock, conf)
    written = dock.review_panel.export(tmp_path / "conf_3d_centres.csv")
    assert "z_um" not in pd.read_csv(written).columns
    [back] = viewer.open(str(written), plugin="napari-particle-detect")
    world = lambda layer: np.sort([layer.data_to_world(p) for p in layer.data], axis=0)  # noqa: E731
    np.testing.assert_allclose(world(back), world(dock.points))
