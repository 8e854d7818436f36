"""The Rods and chains and Volume (3D) docks after a user audit: a renamed unsaved image keeps its project (its
work looked lost under the new name) and its layers take the new name; the width box shows no width while no
rod is selected; a rod drawn by hand is as wide as the image shows it, not the frame's median.

The model is not what these test: the rods dock is given rods as a detection, the volume dock opens its project."""

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.synthetic.rods import render_rods, rod_table
from napari_particle_detect.synthetic.spheres import SynthConfig

PLUGIN = "napari-particle-detect"
SIZE = 64

pytestmark = pytest.mark.usefixtures("project_home")


def rods_image(table: pd.DataFrame) -> np.ndarray:
    """A noise-free fluorescent image of these rods, as the generator draws them."""
    return render_rods(SynthConfig(shape=(SIZE, SIZE), look="fluorescent"), table, "rods", np.random.default_rng(0))


def rods_dock(viewer, image: np.ndarray, detected: pd.DataFrame):
    """The rods dock on ``image`` (unsaved, named 'img'), given ``detected`` as frame 0's detection."""
    viewer.add_image(image, name="img")
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    widget.kind_combo.setCurrentText("rods")
    widget.session.set_detections(detected.assign(frame=0, score=0.9), [0])
    return widget


def test_a_renamed_unsaved_image_keeps_its_rods_project_and_its_layers_take_the_new_name(make_napari_viewer):
    # Renamed 'run1', the image opened a new, empty rods project when picked again: its edits looked gone, and its
    # rods layer, left under the old name, was no longer the session's (edits in it went unsaved).
    viewer = make_napari_viewer()
    thin = rod_table([20.0, 44.0], [32.0, 32.0], [0.0, 0.0], [30.0, 30.0], [4.0, 4.0])
    widget = rods_dock(viewer, rods_image(thin), thin)
    folder = widget.session.project.folder
    viewer.layers["img"].name = "run1"
    assert "run1 rods" in viewer.layers and "img rods" not in viewer.layers
    viewer.layers["run1 rods"].add_lines(np.array([[8.0, 10.0], [8.0, 50.0]]))  # an edit after the rename: saved
    assert len(widget.session.tables[0]) == 3

    viewer.window.remove_dock_widget(widget)  # the dock's X: its layers are put away, to come back
    _, reopened = viewer.window.add_plugin_dock_widget(PLUGIN, "Rods and chains")
    reopened.kind_combo.setCurrentText("rods")
    assert reopened.image_combo.currentText() == "run1"
    assert reopened.session.project.folder == folder
    assert len(viewer.layers["run1 rods"].data) == 3


def test_a_renamed_unsaved_volume_keeps_its_project_and_its_centres_take_the_new_name(make_napari_viewer):
    viewer = make_napari_viewer()
    image = viewer.add_image(np.random.default_rng(1).random((8, 24, 24)).astype(np.float32), name="vol")
    dock = VolumeDetectWidget(viewer)
    dock.layer_combo.setCurrentText("vol")
    project = dock.review.project
    project.save_frame(0, pd.DataFrame({"frame": [0], "z": [4.0], "y": [12.0], "x": [12.0], "score": [np.nan],
                                        "source": ["added"]}))
    dock.show_points(image, project.load_all(), 6.0, 6.0)
    image.name = "run1"
    assert "run1 3D centres" in viewer.layers and "vol 3D centres" not in viewer.layers

    reopened = VolumeDetectWidget(viewer)  # a new dock finds the image's project under its first name
    reopened.layer_combo.setCurrentText("run1")
    assert reopened.review.project.folder == project.folder
    assert len(reopened.review.project.load_all()) == 1


def test_the_width_box_shows_no_width_while_no_rod_is_selected_and_deselecting_writes_none(make_napari_viewer):
    # With nothing selected the box read 0.5 px, its least width, as if measured.
    viewer = make_napari_viewer()
    thin = rod_table([20.0, 44.0], [32.0, 32.0], [0.0, 0.0], [30.0, 30.0], [4.0, 6.0])
    widget = rods_dock(viewer, rods_image(thin), thin)
    review, session = widget.review, widget.session
    layer = session.main_layer
    assert not review.width_spin.isEnabled() and review.width_spin.text() == "–"
    layer.selected_data = {1}
    assert review.width_spin.isEnabled() and review.width_spin.value() == pytest.approx(6.0)
    before = session.tables[0]["width"].to_numpy(float).copy()
    layer.selected_data = set()
    assert not review.width_spin.isEnabled() and review.width_spin.text() == "–"
    assert not review.buttons["Set width"].isEnabled()
    assert session.tables[0]["width"].to_numpy(float) == pytest.approx(before)
    assert np.asarray(layer.edge_width) == pytest.approx(before)


def test_a_rod_drawn_over_a_wide_rod_takes_its_width_from_the_image(make_napari_viewer):
    # It took the frame's median width (4 px here) whatever it was drawn over.
    viewer = make_napari_viewer()
    thin = rod_table([10.0, 54.0], [32.0, 32.0], [0.0, 0.0], [30.0, 30.0], [4.0, 4.0])
    wide = rod_table([32.0], [32.0], [0.0], [40.0], [14.0])
    widget = rods_dock(viewer, rods_image(pd.concat([thin, wide], ignore_index=True)), thin)
    layer = widget.session.main_layer
    layer.add_lines(np.array([[32.0, 13.0], [32.0, 51.0]]))
    added = widget.session.tables[0].query("source == 'added'")
    assert added["width"].tolist() == pytest.approx([14.0], abs=1.5)
    assert layer.edge_width[-1] == pytest.approx(added["width"].iloc[0])
    layer.add_lines(np.array([[2.0, 62.0], [20.0, 62.0]]))  # over nothing, at the edge: the frame's median
    assert widget.session.tables[0].query("source == 'added'")["width"].iloc[-1] == pytest.approx(4.0)
