"""``particle-detect gui`` opens a TIFF stack a frame at a time, and the docks work on it as on one napari read whole;
a centres CSV is never placed over a heatmap; the Rods and chains dock's Undo past a stack's end, and its rods and
beads pasted with Ctrl+V; the Volume (3D) dock's Review box over a volume refused.

No model is trained: the spheres dock detects with the shipped model; rods and chains are given as a detection."""

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import tifffile
from napari.layers import Image

from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.cli.gui import open_images
from napari_particle_detect.projects.kinds_project import load_kind_frame
from napari_particle_detect.projects.project import project_folder_for_image
from napari_particle_detect.synthetic.rods import rod_table

from helpers import kinds_dock, make_widget, notification_count, notifications_since, press, run_detect, small_stack

PLUGIN = "napari-particle-detect"

pytestmark = pytest.mark.usefixtures("project_home")


def copy_and_paste(viewer, layer, rows: set[int], frame: int | None = None) -> None:
    """Select ``rows`` of ``layer``, Ctrl+C, move the slider to ``frame`` (if given), Ctrl+V, as a user does."""
    viewer.layers.selection.active = layer
    layer.mode = "select"
    layer.selected_data = rows
    press(viewer, "Control-C")
    if frame is not None:
        viewer.dims.set_current_step(0, frame)
    press(viewer, "Control-V")


# ---- 1. a TIFF stack opened a frame at a time ----------------------------------------------------------
def test_gui_opens_a_tiff_stack_a_frame_at_a_time_and_the_dock_detects_and_exports_it(make_napari_viewer, qtbot,
                                                                                     tmp_path):
    # napari's own reader read the whole file first: a 1.26 GB stack froze the window 21 s and took 1.3 GB more.
    movie = tmp_path / "movie.tif"
    frames = (small_stack(2, 64) * 4000).astype(np.uint16)
    tifffile.imwrite(movie, frames, imagej=True, resolution=(5, 5),
                     metadata={"axes": "TYX", "unit": "um", "finterval": 0.5})
    viewer = make_napari_viewer()
    [layer] = open_images(viewer, [movie])
    assert isinstance(layer.data, da.Array) and layer.data.chunks[0] == (1, 1)  # one frame read at a time
    np.testing.assert_array_equal(np.asarray(layer.data[1]), frames[1])
    # As napari's reader makes it: named for the file, which is its source, at scale 1 in pixels.
    assert (layer.name, layer.source.path, tuple(layer.scale)) == ("movie", str(movie), (1.0, 1.0, 1.0))
    assert frames[0].min() <= layer.contrast_limits[0] < layer.contrast_limits[1] <= frames[0].max()

    widget = make_widget(viewer, None)
    assert widget.annotation.project.folder == project_folder_for_image(movie)  # found through the file
    assert (widget.tracks.mpp_spin.text(), widget.tracks.interval_spin.text()) == ("0.2", "0.5 s")
    run_detect(widget, qtbot, scope=1)
    shown = widget.annotation.points.data
    assert len(shown) and set(np.rint(shown[:, 0]).astype(int)) == {0, 1}
    exported = pd.read_csv(widget.export.export(tmp_path / "centres.csv"))
    assert len(exported) == len(shown)
    np.testing.assert_allclose(exported["x_um"], exported["x"] * 0.2, atol=1e-4)  # the file's pixel size


def test_gui_leaves_a_colour_tiff_to_napari_which_opens_it_as_colour(make_napari_viewer, tmp_path):
    # The library refuses a colour TIFF without a channel; napari's reader opens it and the dock offers its channels.
    picture = tmp_path / "colour.tif"
    tifffile.imwrite(picture, np.random.default_rng(0).integers(0, 255, (32, 32, 3), np.uint8), photometric="rgb")
    viewer = make_napari_viewer()
    [layer] = open_images(viewer, [picture])
    assert isinstance(layer, Image) and layer.rgb and isinstance(layer.data, np.ndarray)


# ---- 2. a centres CSV is drawn over an image, not over a heatmap ------------------------------------------
def test_a_centres_table_is_placed_over_the_image_not_over_the_heatmap_on_top(make_napari_viewer, tmp_path):
    # The heatmap (a network output half the image's size, drawn at scale 2) was the top image: a table with µm
    # columns was drawn by them "as 'cells heatmap' is drawn at scale 2 x 2", squeezed into the image's top-left
    # quarter, away from the particles it marks.
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 48)[0], name="cells")
    widget = make_widget(viewer, None)
    heatmap = widget.annotation.show_heatmap(0, np.full((24, 24), 0.5, np.float32))
    assert viewer.layers.index(heatmap) > viewer.layers.index(viewer.layers["cells"])
    table = tmp_path / "found.csv"
    pd.DataFrame({"y": [10.0, 30.0], "x": [12.0, 20.0], "y_um": [5.0, 15.0], "x_um": [6.0, 10.0]}).to_csv(table,
                                                                                                         index=False)
    seen = notification_count()
    [found] = viewer.open(str(table), plugin=PLUGIN)
    assert tuple(found.scale) == (1.0, 1.0)  # in pixels, as 'cells' is drawn
    assert notifications_since(seen) == ["found.csv: drawn in pixels, as its y,x columns are, not by its y_um,x_um: "
                                         "'cells' is drawn at scale 1 in pixels (as napari's own reader opens a TIFF)"]


# ---- 3. the rods dock's Undo past the stack's end --------------------------------------------------------
def test_the_rods_docks_undo_refuses_past_the_stacks_end_as_the_spheres_dock_does(make_napari_viewer):
    # It un-accepted frame 1 while the canvas drew none of 'short' (the slider on 'long''s frame 5).
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 48), name="short")
    viewer.add_image(small_stack(6, 48), name="long")
    widget = kinds_dock(viewer, "rods", "short")
    widget.session.set_detections(rod_table([24.0], [24.0], [0.0], [20.0], [4.0]).assign(frame=1, score=0.9), [1])
    viewer.dims.set_current_step(0, 1)
    widget.review.accept_frame()
    project = widget.session.project
    viewer.dims.set_current_step(0, 5)
    seen = notification_count()
    widget.review.undo()
    assert notifications_since(seen) == ["the slider is past 'short''s last frame (2 frames), so none of it is drawn: "
                                         "move it back onto frames 0-1"]
    assert project.reviewed_frames == [1]
    viewer.dims.set_current_step(0, 1)
    widget.review.undo()
    assert project.reviewed_frames == []


# ---- 4. the volume dock's Review box over a volume refused -------------------------------------------------
def test_the_volume_review_box_repeats_why_the_volume_was_refused(make_napari_viewer):
    # It said "detect first; then edit the points..." while Detect refused the volume.
    viewer = make_napari_viewer()
    viewer.add_image(np.random.default_rng(0).random((1, 24, 24)).astype(np.float32), name="flat")
    dock = VolumeDetectWidget(viewer)
    viewer.window.add_dock_widget(dock)
    dock.layer_combo.setCurrentText("flat")
    dock.axes_combo.setCurrentIndex(0)  # ZYX (one volume)
    why = ("'flat' has 1 slice along z, and a volume needs 2 or more: detect it as 2D images in the Particle "
           "detection dock")
    assert dock.review is None and dock.status.text() == why
    assert dock.review_panel.status.text() == why


# ---- 5. rods and beads pasted with Ctrl+V ----------------------------------------------------------------
def test_rods_pasted_onto_another_frame_are_saved_at_once_as_added(make_napari_viewer):
    # napari's Shapes paste sends no data event: the pasted rod was saved only with the next edit, as the model's.
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 48), name="short")
    widget = kinds_dock(viewer, "rods", "short")
    session = widget.session
    session.set_detections(rod_table([24.0], [24.0], [0.0], [20.0], [4.0]).assign(frame=0, score=0.9), [0])
    copy_and_paste(viewer, session.main_layer, {0}, frame=1)
    pasted = load_kind_frame(session.project, 1)
    assert pasted[["y", "x", "length", "source"]].values.tolist() == [[24.0, 24.0, 20.0, "added"]]
    assert pasted["score"].isna().all() and session.actions[-1][:2] == ("edit", 1)


def test_beads_pasted_are_saved_at_once_as_a_new_chain(make_napari_viewer):
    # The pasted beads kept chain 0 and its indices: saved with the next edit, chain 0 ran through both copies in
    # turn (index 0, 0, 1, 1, 2, 2). napari 0.9.2 pastes points in a 2D image only (in a stack its paste fails).
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 64)[0], name="beads")
    widget = kinds_dock(viewer, "chains", "beads")
    session = widget.session
    chain = pd.DataFrame({"frame": 0, "y": [20.0, 20.0, 20.0], "x": [10.0, 16.0, 22.0], "chain": 0, "index": [0, 1, 2],
                          "closed": 0, "score": 0.9})
    session.set_detections(chain, [0])
    copy_and_paste(viewer, session.main_layer, {0, 1, 2})
    saved = load_kind_frame(session.project, 0)
    assert len(saved) == 6 and saved.groupby("chain")["index"].apply(list).tolist() == [[0, 1, 2], [0, 1, 2]]
    copy = saved[saved["source"] == "added"]
    assert copy["chain"].nunique() == 1 and copy["x"].tolist() == [10.0, 16.0, 22.0] and copy["score"].isna().all()
