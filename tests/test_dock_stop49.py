"""The three docks' own layers beside other images: layers brought back lie just over their own image, outputs
(and copies of them) are never offered as images, pasted centres are saved at once; and what the Review and
Detect buttons say and allow past a stack's end or over a volume refused.

No model is run: centres, rods and heatmaps are given as a detection would give them."""

import numpy as np
import pandas as pd
import pytest
import tifffile
from napari.layers._layer_actions import _duplicate_layer  # what Layers > Duplicate Layer runs

from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.learning.volume_rounds import VolumeSettings, open_volume_project, remember_settings
from napari_particle_detect.synthetic.rods import rod_table

from helpers import kinds_dock, make_widget, notification_count, notifications_since, pick, press, small_stack

PLUGIN = "napari-particle-detect"

pytestmark = pytest.mark.usefixtures("project_home")


def names(viewer) -> list[str]:
    """The layer list, bottom first."""
    return [layer.name for layer in viewer.layers]


def volume_dock(viewer, name: str) -> VolumeDetectWidget:
    dock = VolumeDetectWidget(viewer)
    viewer.window.add_dock_widget(dock)
    dock.layer_combo.setCurrentText(name)
    dock.axes_combo.setCurrentIndex(0)  # ZYX (one volume)
    return dock


# ---- 1. layers brought back lie just over their own image ------------------------------------------
def test_centres_brought_back_lie_over_their_own_image_not_over_an_image_opened_since(make_napari_viewer, qtbot):
    # With 'high' opened after 'low' was detected, the reopened spheres dock and volume dock put low's centres at
    # the top of the layer list, drawing them over high's particles.
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 48), name="low")
    widget = make_widget(viewer, None)
    widget.annotation.ensure_points_layer().add([0, 10.0, 10.0])
    volume = viewer.add_image(np.random.default_rng(0).random((6, 20, 20)).astype(np.float32), name="vol")
    dock = volume_dock(viewer, "vol")
    remember_settings(dock.review.project, VolumeSettings((5.0, 10.0, 10.0), None, tuple(volume.data.shape)))
    dock.review.save_edits(0, pd.DataFrame({"frame": 0, "z": [2.0], "y": [3.0], "x": [5.0], "source": "added"}))
    dock.reload_points()
    viewer.add_image(small_stack(2, 48), name="high")
    assert names(viewer) == ["low", "low centres", "vol", "vol 3D centres", "high"]

    qtbot.waitUntil(lambda: widget._watched_window is not None and dock._watched_window is not None)
    viewer.window.remove_dock_widget(widget)  # the docks' X: their layers are put away, to come back
    viewer.window.remove_dock_widget(dock)
    assert names(viewer) == ["low", "vol", "high"]
    pick(make_widget(viewer, None), "low")
    volume_dock(viewer, "vol")
    assert names(viewer) == ["low", "low centres", "vol", "vol 3D centres", "high"]

    viewer.layers.remove("low centres")  # closed by the user: Accept brings it back to be looked at first
    press(viewer, "Enter")
    assert names(viewer) == ["low", "low centres", "vol", "vol 3D centres", "high"]


def test_rods_taken_back_by_an_image_opened_again_lie_over_it(make_napari_viewer, tmp_path):
    # Closed, 'low' left its rods parked; opened again (at the top), it took them back where they lay, under it and
    # under 'high': hidden behind two images. (Now its rods go with it, and come back over it.)
    path = tmp_path / "low.tif"
    tifffile.imwrite(path, np.random.default_rng(0).random((48, 48)).astype(np.float32))
    viewer = make_napari_viewer()
    viewer.open(path)
    widget = kinds_dock(viewer, "rods", "low")
    widget.session.set_detections(rod_table([24.0], [24.0], [0.0], [20.0], [4.0]).assign(frame=0, score=0.9), [0])
    widget.session.accept_region(0, (0.0, 0.0, 30.0, 30.0))
    viewer.add_image(np.random.default_rng(1).random((48, 48)).astype(np.float32), name="high")
    viewer.layers.remove("low")
    assert names(viewer) == ["high"]  # its rods and outlines go with it, kept in its project

    viewer.open(path)
    widget.image_combo.setCurrentText("low")
    assert names(viewer) == ["high", "low", "low rods", "low rods reviewed regions"]
    assert all(layer.visible for layer in viewer.layers) and len(viewer.layers["low rods"].data) == 1


# ---- 2. outputs and their copies are not images to detect on -------------------------------------
def test_a_heatmap_and_its_copy_are_offered_by_no_dock(make_napari_viewer):
    # A heatmap copied with Duplicate Layer ('cells heatmap copy') was offered in the Particle detection dock's
    # Image list; the heatmap itself in the Rods and chains and Volume (3D) docks' lists.
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 48), name="cells")
    widget = make_widget(viewer, None)
    heatmap = widget.annotation.show_heatmap(0, np.full((48, 48), 0.5, np.float32))
    viewer.layers.selection = {heatmap}
    _duplicate_layer(viewer.layers)
    assert "cells heatmap copy" in viewer.layers
    kinds = kinds_dock(viewer, "rods", "cells")
    volumes = volume_dock(viewer, "cells")
    for combo in (widget.image_combo, kinds.image_combo, volumes.layer_combo):
        assert [combo.itemText(i) for i in range(combo.count())] == ["cells"]


# ---- 3. pasted centres are saved at once ---------------------------------------------------------
def test_centres_pasted_with_ctrl_v_are_saved_at_once(make_napari_viewer):
    # napari's paste sends no data event: the pasted points were saved only with the next edit, and a network
    # point pasted kept its source and score.
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 48)[0], name="cells")
    widget = make_widget(viewer, None)
    annotation = widget.annotation
    annotation.replace_frames({0: pd.DataFrame({"y": [10.0], "x": [12.0], "score": [0.9], "source": "model"})})
    centres = annotation.points
    centres.selected_data = {0}
    press(viewer, "Control-C", "Control-V")
    assert len(centres.data) == 2
    saved = annotation.project.load_all()
    assert saved[["y", "x", "source"]].values.tolist() == [[10.0, 12.0, "model"], [10.0, 12.0, "added"]]

    volume = viewer.add_image(np.random.default_rng(0).random((6, 20, 20)).astype(np.float32), name="vol")
    dock = volume_dock(viewer, "vol")
    remember_settings(dock.review.project, VolumeSettings((5.0, 10.0, 10.0), None, tuple(volume.data.shape)))
    dock.review.save_edits(0, pd.DataFrame({"frame": 0, "z": [2.0], "y": [3.0], "x": [5.0], "source": "added"}))
    dock.reload_points()
    viewer.dims.ndisplay = 3  # napari 0.9.2's paste fails in a sliced view of a layer with more axes than shown
    viewer.layers.selection.active = dock.points
    dock.points.selected_data = {0}
    press(viewer, "Control-C", "Control-V")
    assert dock.review.project.load_all()[["z", "y", "x"]].values.tolist() == [[2.0, 3.0, 5.0]] * 2


# ---- 4. nothing offered past a stack's last frame that would be refused -------------------------
def test_accept_and_unaccept_are_disabled_past_the_stacks_last_frame(make_napari_viewer):
    # The rods and chains dock's Accept frame and Accept box stayed enabled there (and refused when pressed), as did
    # the spheres dock's Accept frame and Un-accept.
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 48), name="short")
    viewer.add_image(small_stack(6, 48), name="long")
    spheres = make_widget(viewer, None)
    pick(spheres, "short")
    spheres.annotation.ensure_points_layer().add([1, 10.0, 10.0])
    kinds = kinds_dock(viewer, "rods", "short")
    kinds.session.set_detections(rod_table([24.0], [24.0], [0.0], [20.0], [4.0]).assign(frame=1, score=0.9), [1])
    viewer.dims.set_current_step(0, 1)
    kinds.review.accept_frame()
    spheres.review.accept_and_next()
    review = spheres.review
    both = [kinds.review.buttons["Accept frame"], kinds.review.buttons["Accept box"], kinds.review.unaccept_button,
            review.accept_button, review.unaccept_button]
    assert all(button.isEnabled() for button in both)

    viewer.dims.set_current_step(0, 5)  # the long stack's frame: none of 'short' is drawn
    assert not any(button.isEnabled() for button in both)
    assert kinds.review.buttons["Undo"].isEnabled()  # it takes back frame 1's acceptance, not the slider's frame
    viewer.dims.set_current_step(0, 1)
    assert all(button.isEnabled() for button in both)


# ---- 5. a volume refused says so where Detect answers -------------------------------------------
def test_detect_on_a_volume_refused_for_its_depth_says_why_and_what_to_do(make_napari_viewer, tmp_path):
    # Its project made for 16 slices, a 12-slice 'vol.tif' was refused on opening; Detect then said "select a ZYX or
    # TZYX image layer" over the ZYX volume selected, and its line stayed empty.
    path = tmp_path / "vol.tif"
    rng = np.random.default_rng(0)
    project = open_volume_project(path, rng.random((16, 24, 24)).astype(np.float32))
    remember_settings(project, VolumeSettings((5.0, 10.0, 10.0), None, (16, 24, 24)))
    tifffile.imwrite(path, rng.random((12, 24, 24)).astype(np.float32), imagej=True, metadata={"axes": "ZYX"})
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="napari")
    viewer.add_image(rng.random((1, 24, 24)).astype(np.float32), name="flat")
    refused = (f"{project.folder}: 'vol.tif' has 12 z-slices per volume, this project was made for 16 (its "
               "volume.json); open it with that image, or move the project folder aside, then pick another image and "
               "this one again in the Volume detection (3D) dock (a new project starts)")
    for name, why in (("vol", refused), ("flat", "'flat' has 1 slice along z, and a volume needs 2 or more: detect it "
                                                 "as 2D images in the Particle detection dock")):
        dock = volume_dock(viewer, name)
        assert dock.review is None and dock.status.text() == why
        seen = notification_count()
        dock.button.click()
        assert dock.worker is None and dock.status.text() == why
        assert notifications_since(seen) == [why]
