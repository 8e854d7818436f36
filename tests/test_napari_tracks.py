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
