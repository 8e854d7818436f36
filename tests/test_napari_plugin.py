"""The npe2 contributions: manifest, dock widget, reader, writer, sample data."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect._napari.reader import get_reader
from napari_particle_detect._napari.widget import ParticleDetectWidget
from napari_particle_detect._napari.writer import write_points

PLUGIN = "napari-particle-detect"


def assert_rings_coloured_by_source(layer):
    """Transparent discs with a border in the colour of each point's source: thin rings."""
    from napari.utils.colormaps.standardize_color import transform_color

    from napari_particle_detect._napari.layers import SOURCE_COLOURS

    assert np.all(layer.face_color[:, 3] == 0)
    expected = np.array([transform_color(SOURCE_COLOURS[s])[0] for s in layer.features["source"]]).reshape(-1, 4)
    np.testing.assert_allclose(layer.border_color, expected)


def test_manifest_validates():
    from npe2 import PluginManifest

    manifest = PluginManifest.from_distribution(PLUGIN)
    assert {w.display_name for w in manifest.contributions.widgets} == {"Particle detection", "Volume detection (3D)",
                                                                          "Rods and chains"}
    assert manifest.contributions.readers[0].filename_patterns == ["*.csv"]
    assert manifest.contributions.writers[0].layer_types == ["points"]
    assert len(manifest.contributions.sample_data) == 7  # 4 of spheres, rods, chains, a volume
    npe2 = Path(sys.executable).with_name("npe2")
    result = subprocess.run([str(npe2), "validate", PLUGIN], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in result.stdout


def test_widget_docks_from_the_plugins_menu(make_napari_viewer):
    viewer = make_napari_viewer()
    dock, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Particle detection")
    assert isinstance(widget, ParticleDetectWidget)
    assert dock.isVisible() or not viewer.window._qt_window.isVisible()
    viewer.add_image(np.random.default_rng(0).random((2, 32, 32)), name="cells")
    assert widget.image_combo.currentText() == "cells"
    assert widget.annotation is not None and widget.annotation.n_frames == 2


def _frame_table():
    return pd.DataFrame({"frame": [0, 0, 2], "y": [1.5, 10.25, 7.0], "x": [2.0, 3.5, 30.125],
                         "score": [0.9, np.nan, 0.45], "source": ["model", "added", "accepted"]})


def test_reader_and_writer_round_trip(tmp_path, make_napari_viewer):
    path = tmp_path / "centres.csv"
    _frame_table().to_csv(path, index=False)
    viewer = make_napari_viewer()
    [layer] = viewer.open(path, plugin=PLUGIN)
    assert layer.data.shape == (3, 3)
    assert_rings_coloured_by_source(layer)
    assert list(layer.features["source"]) == ["model", "added", "accepted"]

    out = tmp_path / "saved.csv"
    written = viewer.layers.save(str(out), selected=False, plugin=PLUGIN)
    assert [Path(p) for p in written] == [out]
    again = pd.read_csv(out)
    assert list(again.columns) == ["frame", "y", "x", "score", "source"]
    pd.testing.assert_frame_equal(again, _frame_table(), check_dtype=False)


def test_reader_accepts_napari_and_trackpy_columns_and_declines_other_csvs(tmp_path):
    napari_csv = tmp_path / "napari.csv"
    pd.DataFrame({"index": [0, 1], "axis-0": [4.0, 5.0], "axis-1": [6.0, 7.0]}).to_csv(napari_csv, index=False)
    [(data, kwargs, kind)] = get_reader(str(napari_csv))(str(napari_csv))
    assert kind == "points" and data.tolist() == [[4.0, 6.0], [5.0, 7.0]]

    trackpy_csv = tmp_path / "trackpy.csv"
    trackpy = pd.DataFrame({"y": [3.0], "x": [4.0], "mass": [120.0], "size": [2.1], "frame": [5]})
    trackpy.to_csv(trackpy_csv, index=False)
    [(data, kwargs, kind)] = get_reader(str(trackpy_csv))(str(trackpy_csv))
    assert data.tolist() == [[5.0, 3.0, 4.0]]

    other = tmp_path / "other.csv"
    pd.DataFrame({"time": [1], "temperature": [20.0]}).to_csv(other, index=False)
    assert get_reader(str(other)) is None


def test_centres_of_a_scaled_and_offset_image_reopen_where_they_were_drawn(tmp_path, make_napari_viewer):
    # Saved in pixels only, they reopened at scale 1: over an area 1 / 0.35 times the image's, off its corner.
    viewer = make_napari_viewer()
    placed = {"scale": (1.0, 0.35, 0.35), "translate": (0.0, 100.0, 50.0), "units": ("pixel", "um", "um")}
    viewer.add_image(np.zeros((3, 64, 64)), name="cells", **placed)
    table = _frame_table()
    layer = viewer.add_points(table[["frame", "y", "x"]].to_numpy(float), features=table[["score", "source"]],
                              name="cells centres", **placed)
    layer.save(str(tmp_path / "saved.csv"), plugin=PLUGIN)
    saved = pd.read_csv(tmp_path / "saved.csv")
    assert saved["y_um"].tolist() == pytest.approx((table["y"] * 0.35 + 100.0).tolist(), abs=1e-3)  # as napari shows
    [again] = viewer.open(tmp_path / "saved.csv", plugin=PLUGIN)
    world = [np.array([lay.data_to_world(p) for p in lay.data]) for lay in (layer, again)]
    np.testing.assert_allclose(world[1], world[0], atol=2e-3)
    assert tuple(str(u) for u in again.units) == ("pixel", "micrometer", "micrometer")


def test_a_tracks_csv_reopens_with_its_tracks_and_measurements(tmp_path, make_napari_viewer):
    # The dock's Export tracks and 'particle-detect link' write particle ids and measurements; reopened, the
    # layer kept score and source only, and saving it again dropped the rest.
    tracks = pd.DataFrame({"frame": [0, 1, 0, 1], "y": [5.0, 6.0, 20.0, 21.5], "x": [5.0, 5.5, 30.0, 29.0],
                           "score": [0.9, 0.8, 0.7, 0.95], "source": "model", "mass": [120.0, 130.0, 90.0, 95.5],
                           "particle": [0, 0, 1, 1]})
    tracks.to_csv(tmp_path / "tracks.csv", index=False)
    viewer = make_napari_viewer()
    points, lines = viewer.open(tmp_path / "tracks.csv", plugin=PLUGIN)
    assert points.features["mass"].tolist() == [120.0, 130.0, 90.0, 95.5]
    assert lines._type_string == "tracks" and sorted(lines.data[:, 0].tolist()) == [0, 0, 1, 1]
    points.save(str(tmp_path / "again.csv"), plugin=PLUGIN)
    again = pd.read_csv(tmp_path / "again.csv")
    pd.testing.assert_frame_equal(again[tracks.columns], tracks, check_dtype=False)


def test_a_table_of_several_files_opens_as_one_layer_per_file(tmp_path, make_napari_viewer):
    # 'detect a.tif b.tif -o all.csv' writes one table with a file column: opened as one layer, both files'
    # centres were drawn over the same frames (and a chains table's chain 0 of each file joined into one path).
    pd.DataFrame({"frame": [0, 0, 0], "y": [1.0, 2.0, 3.0], "x": [4.0, 5.0, 6.0], "score": [0.9, 0.8, 0.7],
                  "file": ["/data/a.tif", "/data/a.tif", "/data/b.tif"]}).to_csv(tmp_path / "all.csv", index=False)
    pd.DataFrame({"frame": 0, "y": [10.0, 10.0, 40.0, 40.0], "x": [10.0, 20.0, 10.0, 20.0], "chain": 0,
                  "index": [0, 1, 0, 1], "file": ["a.tif", "a.tif", "b.tif", "b.tif"]}).to_csv(
        tmp_path / "beads.csv", index=False)
    viewer = make_napari_viewer()
    a, b = viewer.open(tmp_path / "all.csv", plugin=PLUGIN)
    assert (a.name, b.name) == ("all [a.tif]", "all [b.tif]")
    assert a.data[:, 1:].tolist() == [[1.0, 4.0], [2.0, 5.0]] and b.data[:, 1:].tolist() == [[3.0, 6.0]]
    layers = viewer.open(tmp_path / "beads.csv", plugin=PLUGIN)
    paths = [layer for layer in layers if layer._type_string == "shapes"]
    assert len(paths) == 2 and all(layer.nshapes == 1 for layer in paths)  # a path per file, not one across both


def test_writer_saves_2d_points_with_frame_0_as_export_does(tmp_path):
    [written] = write_points(str(tmp_path / "p"), np.array([[1.0, 2.0]]), {"features": pd.DataFrame()})
    table = pd.read_csv(written)
    assert written.endswith("p.csv") and list(table.columns) == ["frame", "y", "x", "score", "source"]
    assert table[["frame", "y", "x"]].values.tolist() == [[0, 1.0, 2.0]]


def test_synthetic_sample_opens_with_its_truth(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "synthetic_stack")
    image, truth = viewer.layers
    assert image.data.shape == (4, 256, 256) and truth.data.shape[1] == 3
    assert len(truth.data) > 4 * 200  # heavily overlapping: hundreds of particles a frame
    assert set(np.unique(truth.data[:, 0])) == {0, 1, 2, 3}


@pytest.mark.parametrize("key", ["opaque_discs", "brightfield_colloids", "bulk_water"])
def test_bundled_samples_open(make_napari_viewer, key):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, key)
    [image] = viewer.layers
    assert image.ndim == 3 and image.data.dtype == np.uint8
