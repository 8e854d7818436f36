"""The dock's rounds outside the dock (export, delete), measurements as point features and colours,
and linked tracks (Tracks layer, MSD, export), driven through the dock's own buttons."""

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.cli import main as cli
from napari_particle_detect.detection.measurements import MEASUREMENT_COLUMNS
from napari_particle_detect.models import load_model
from napari_particle_detect.models.registry import default_model_path
from napari_particle_detect.synthetic.spheres import SynthConfig
from napari_particle_detect.synthetic.motion import diffusing_stack

from helpers import make_widget, run_detect

pytestmark = pytest.mark.usefixtures("project_home")


def _select_round(widget, number):
    table = widget.finetune.table
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).data(256) == number)
    table.selectRow(row)


def test_a_round_is_exported_as_a_model_file_and_deleted_from_the_dock(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((2, 48, 48), np.uint16), name="cells")
    widget = make_widget(viewer, None)  # the shipped model is round 1
    widget.detect.add_model_file(str(default_model_path()))  # round 2, in use
    actions = widget.finetune.round_actions
    assert not actions.export_button.isEnabled()  # nothing selected yet
    _select_round(widget, 1)
    assert actions.export_button.isEnabled() and not actions.delete_button.isEnabled()
    assert "shipped" in actions.delete_button.toolTip()
    _select_round(widget, 2)
    assert not actions.delete_button.isEnabled()  # in use

    exported = actions.export(tmp_path / "my beads.pt")
    assert exported.is_file() and exported.with_suffix(".json").is_file()
    assert load_model(exported).card.training["exported"]["name"] == "my beads"
    frame = (np.random.default_rng(0).random((48, 48)) * 1000).astype(np.uint16)
    import tifffile

    tifffile.imwrite(tmp_path / "other.tif", frame)
    assert cli.main(["-q", "detect", str(tmp_path / "other.tif"), "-o", str(tmp_path / "o.csv"),
                     "--model", str(exported), "--diameter", "8", "--device", "cpu"]) == 0

    widget.state.use_round(1)
    _select_round(widget, 2)
    assert actions.delete_button.isEnabled()
    assert actions.delete(confirm=False)
    assert [r.number for r in widget.annotation.project.rounds] == [1]
    assert widget.finetune.table.rowCount() == 1


def test_measure_colour_link_and_export_tracks(make_napari_viewer, qtbot, tmp_path):
    stack, truth = diffusing_stack(SynthConfig(shape=(96, 96), area_fraction=0.12, radius_range=(4, 5)),
                                   n_frames=5, step=0.7, drift=(0.6, 0.0), seed=2)
    viewer = make_napari_viewer()
    viewer.add_image(stack, name="movie")
    widget = make_widget(viewer, None)
    widget.detect.diameter_spin.setValue(9.0)
    widget.measure.measure_check.setChecked(True)  # before Detect: the detections arrive measured
    run_detect(widget, qtbot)
    points = widget.annotation.points
    assert set(MEASUREMENT_COLUMNS) <= set(points.features.columns)
    assert points.features["mass"].notna().all() and len(points.features) == len(points.data)
    shown, threshold = points.shown.copy(), widget.state.threshold
    widget.detect.set_threshold(0.9)
    widget.detect.set_threshold(threshold)
    np.testing.assert_array_equal(points.shown, shown)  # measuring leaves the threshold's work alone
    widget.measure.colour_combo.setCurrentText("mass")
    colours = np.asarray(points.border_color)
    assert len(np.unique(colours.round(3), axis=0)) > 3  # coloured by mass, not by source
    assert "mass:" in widget.measure.legend.text()
    # An edit (a deleted point) keeps the measurements and colours in step with the points.
    points.selected_data = {0}
    points.remove_selected()
    assert len(points.features) == len(points.data) and points.features["mass"].notna().all()
    widget.measure.colour_combo.setCurrentText("source")

    tracks_panel = widget.tracks
    tracks_panel.range_spin.setValue(4.0)
    tracks_panel.memory_spin.setValue(1)
    tracks_panel.drift_check.setChecked(True)
    tracks_panel.link()
    qtbot.waitUntil(lambda: not tracks_panel.running(), timeout=60_000)
    linked = tracks_panel.linked.tracks
    layer = viewer.layers["movie tracks"]
    assert len(np.unique(layer.data[:, 0])) == linked["particle"].nunique()
    # Most true particles come out as one track each (detections by the shipped model, not the truth).
    assert 0.7 * truth["particle"].nunique() <= linked["particle"].nunique() <= 1.5 * truth["particle"].nunique()
    assert tracks_panel.linked.msd is not None and "tracks" in tracks_panel.status.text()
    assert tracks_panel.plot.axes.lines  # the MSD is drawn

    written = tracks_panel.export(tmp_path / "tracks.csv")
    saved = pd.read_csv(written)
    assert {"frame", "y", "x", "particle", "mass", "y_corrected"} <= set(saved.columns)
    assert (tmp_path / "tracks_msd.csv").is_file()
    exported = widget.export.export(tmp_path / "centres.csv")
    assert "mass" in pd.read_csv(exported).columns

    # An edit after Link: the tracks are the old centres' (they were still exported, with no word).
    points.selected_data = {0}
    points.remove_selected()
    widget.annotation.flush()
    assert not tracks_panel.export_button.isEnabled() and "out of date" in tracks_panel.status.text()
    assert tracks_panel.export(tmp_path / "stale.csv") is None and not (tmp_path / "stale.csv").exists()
    tracks_panel.link()
    qtbot.waitUntil(lambda: not tracks_panel.running(), timeout=60_000)
    assert tracks_panel.export_button.isEnabled() and "out of date" not in tracks_panel.status.text()
    widget.detect.set_threshold(0.9)  # a threshold move changes the centres shown too
    assert not tracks_panel.export_button.isEnabled()

    # Measuring turned off: the measurements leave the layer (they went stale with the next edit, yet kept
    # colouring the rings and were saved by File > Save).
    widget.measure.colour_combo.setCurrentText("mass")
    widget.measure.measure_check.setChecked(False)
    assert not set(MEASUREMENT_COLUMNS) & set(points.features.columns)
    assert "mass:" not in widget.measure.legend.text()
    points.save(str(tmp_path / "saved.csv"), plugin="napari-particle-detect")
    assert "mass" not in pd.read_csv(tmp_path / "saved.csv").columns


def test_exported_tracks_say_the_msds_units_and_replace_only_their_own_files(make_napari_viewer, qtbot, tmp_path):
    """Export tracks… writes the parameters and units of the tracks and of the MSD in a .json beside each, as
    ``particle-detect link`` does (the MSD's µm² or px², s or frames were nowhere), the plot and status say
    them, and beside the file the save dialog asked about it replaces only an earlier export's files."""
    import json

    from helpers import notification_count, notifications_since
    from napari_particle_detect.files.tracks import DOCK_EXPORT

    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((4, 64, 64), np.uint16), name="water", scale=(1.0, 0.3509, 0.3509),
                     units=("pixel", "um", "um"))
    widget = make_widget(viewer, None)
    points = widget.annotation.ensure_points_layer()
    for frame in range(4):  # each particle a pixel further every frame: 1 px² at one frame, 4 at two
        points.add([[frame, 10.0 + frame, 12.0], [frame, 40.0, 20.0 + frame], [frame, 30.0 - frame, 50.0]])
    panel = widget.tracks
    panel.fps_spin.setValue(24.0)
    panel.link()
    qtbot.waitUntil(lambda: not panel.running(), timeout=60_000)
    assert (panel.plot.axes.get_xlabel(), panel.plot.axes.get_ylabel()) == ("lag time (s)", "MSD (µm²)")
    assert "µm² at 0.04167 s, exponent 2.00" in panel.status.text()
    panel.mpp_spin.setValue(1.0)  # changed after Link: the export records what the MSD was measured with

    # Someone's file by the name of the MSD the export writes beside the tracks: refused, nothing written.
    theirs = tmp_path / "water_tracks_msd.csv"
    theirs.write_text("lagt,msd\n1,2\n")
    count = notification_count()
    assert panel.export(tmp_path / "water_tracks.csv") is None
    assert notifications_since(count) == [f"{theirs}: already there and not from a tracks export; move it, or "
                                          "export the tracks under another name"]
    assert [p.name for p in tmp_path.glob("water_tracks*")] == [theirs.name] and theirs.read_text() == "lagt,msd\n1,2\n"

    theirs.unlink()
    for _ in range(2):  # the second time over its own files
        written = panel.export(tmp_path / "water_tracks.csv")
        assert written == tmp_path / "water_tracks.csv"
    record = json.loads((tmp_path / "water_tracks.json").read_text(encoding="utf-8"))
    assert record == json.loads((tmp_path / "water_tracks_msd.json").read_text(encoding="utf-8"))
    assert {k: record[k] for k in ("command", "tracks", "msd", "mpp", "mpp_from", "fps", "max_lag", "units")} == {
        "command": DOCK_EXPORT, "tracks": str(written), "msd": str(tmp_path / "water_tracks_msd.csv"),
        "mpp": 0.3509, "mpp_from": "the image's pixel size", "fps": 24.0, "max_lag": 100,
        "units": {"positions": "px", "search_range": "px", "memory": "frames", "lagt": "s", "msd": "µm²"}}
    msd = pd.read_csv(tmp_path / "water_tracks_msd.csv")
    np.testing.assert_allclose(msd[["lagt", "msd"]].to_numpy()[:2], [[1 / 24, 0.3509**2], [2 / 24, 4 * 0.3509**2]],
                               rtol=1e-5)

    # An image without a micrometre scale: in px² and frames, whatever µm/px the last image had.
    panel.mpp_spin.setValue(0.3509)
    viewer.add_image(np.zeros((4, 64, 64), np.uint16), name="plain")
    widget.image_combo.setCurrentIndex(1)
    assert widget.annotation.image.name == "plain" and panel.mpp_spin.text() == "none (px)"
    points = widget.annotation.ensure_points_layer()
    for frame in range(3):
        points.add([[frame, 10.0 + frame, 12.0]])
    panel.fps_spin.setValue(0.0)  # none: lag times in frames
    panel.link()
    qtbot.waitUntil(lambda: not panel.running(), timeout=60_000)
    assert (panel.plot.axes.get_xlabel(), panel.plot.axes.get_ylabel()) == ("lag time (frames)", "MSD (px²)")
    assert "MSD = 1 px² at 1 frame, exponent 2.00" in panel.status.text()
