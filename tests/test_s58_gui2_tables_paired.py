"""`particle-detect gui` and the reader of tables: a table is hidden and shown with the image it is the table of (by
name, by the input its .json names), never with an image it was merely laid over; napari's 4D points CSV opens as the
volume table the reader reads; link's tracks.csv, a volume table's sliders and an image opened after its table read
well."""

import json

import numpy as np
import pandas as pd
import tifffile

from napari_particle_detect._napari.reader import read_centre_files
from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect._napari.widget import ParticleDetectWidget
from napari_particle_detect.cli.gui import PLUGIN, build_viewer


def _image(path, shape=(64, 64)):
    tifffile.imwrite(path, np.random.default_rng(0).integers(0, 255, shape).astype(np.uint8),
                     photometric="minisblack")
    return path


def _pick(viewer, name):
    [widget] = [w for w in viewer.window.dock_widgets.values() if isinstance(w, ParticleDetectWidget)]
    widget.image_combo.setCurrentIndex(widget.image_combo.findText(name))
    widget.show_chosen()  # what the user's pick in the Image box runs


def test_naparis_4d_points_csv_is_not_hidden_with_a_2d_image(tmp_path, project_home, napari_app_of_its_own):
    # Its raw header (axis-0..axis-3, no z) read as a 2D table: paired with 'flat' and hidden, though drawn on 'vol'.
    _image(tmp_path / "vol.tif", (8, 32, 32))
    _image(tmp_path / "flat.tif", (32, 32))
    (tmp_path / "points.csv").write_text("index,axis-0,axis-1,axis-2,axis-3\n0,0,3,10,12\n1,0,5,20,22\n")
    viewer = build_viewer([tmp_path / "vol.tif", tmp_path / "flat.tif", tmp_path / "points.csv"], show=False)
    try:
        assert viewer.layers["points"].visible and viewer.layers["vol"].visible
        # Read as a volume's centres, it brings the dock that works on them.
        assert [w for w in viewer.window.dock_widgets.values() if isinstance(w, VolumeDetectWidget)]
    finally:
        viewer.close()


def test_a_table_laid_over_the_top_image_is_left_shown(tmp_path, project_home, napari_app_of_its_own):
    # Named after neither image, it was hidden with 'b', and 'a' was left shown without its centres.
    _image(tmp_path / "a.tif"), _image(tmp_path / "b.tif")
    pd.DataFrame({"frame": [0], "y": [20.0], "x": [30.0], "score": [0.9]}).to_csv(tmp_path / "centres.csv", index=False)
    viewer = build_viewer([tmp_path / "a.tif", tmp_path / "b.tif", tmp_path / "centres.csv"], show=False)
    try:
        assert [(layer.name, layer.visible) for layer in viewer.layers] == [
            ("a", True), ("b", False), ("centres", True)]
    finally:
        viewer.close()


def test_a_table_goes_with_the_image_its_json_names(tmp_path, project_home, napari_app_of_its_own):
    # detect a.tif -o centres.csv: its .json names a.tif, and the table is a's, shown and hidden with it.
    _image(tmp_path / "a.tif"), _image(tmp_path / "b.tif")
    pd.DataFrame({"frame": [0], "y": [20.0], "x": [30.0], "score": [0.9]}).to_csv(tmp_path / "centres.csv", index=False)
    (tmp_path / "centres.json").write_text(json.dumps({"inputs": [{"file": "a.tif", "frames": 1}]}))
    viewer = build_viewer([tmp_path / "a.tif", tmp_path / "b.tif", tmp_path / "centres.csv"], show=False)
    try:
        table = viewer.layers["centres"]
        assert table.visible
        _pick(viewer, "b")
        assert not table.visible
        _pick(viewer, "a")
        assert table.visible
    finally:
        viewer.close()


def test_links_tracks_csv_is_not_read_as_tracks_tracks(tmp_path):
    table = tmp_path / "tracks.csv"
    pd.DataFrame({"frame": [0, 1], "y": [10.0, 11.0], "x": [10.0, 12.0], "particle": [0, 0]}).to_csv(table, index=False)
    assert [kwargs["name"] for _, kwargs, _ in read_centre_files(str(table))] == ["tracks", "track lines"]


def test_a_volume_tables_sliders_are_named_z_y_x(make_napari_viewer, tmp_path):
    # napari numbered them: '-3' beside the z slider read as where z starts.
    table = tmp_path / "vol.csv"
    pd.DataFrame({"z": [2.0, 5.0], "y": [10.0, 20.0], "x": [12.0, 22.0]}).to_csv(table, index=False)
    viewer = make_napari_viewer()
    viewer.open(str(table), plugin=PLUGIN)
    assert viewer.dims.axis_labels == ("z", "y", "x")


def test_an_image_opened_after_its_table_goes_under_it_by_its_own_name(make_napari_viewer, tmp_path):
    # Dropped in after img.csv, the image was 'img [1]' (a second copy, to read it) and covered every centre.
    pd.DataFrame({"y": [20.0, 40.0], "x": [30.0, 50.0]}).to_csv(tmp_path / "img.csv", index=False)
    viewer = make_napari_viewer()
    viewer.open(str(tmp_path / "img.csv"), plugin=PLUGIN)
    viewer.open(str(_image(tmp_path / "img.tif")), plugin="napari")
    assert [layer.name for layer in viewer.layers] == ["img", "img.csv"]
