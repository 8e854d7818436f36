"""The volume dock's review loop for real in napari (issue 20, item 4): detect, edit (saved at once),
accept a 3D box and a volume, undo, review-next, a fine-tuning round and a cancelled one, export
(trackpy links it), and the dock closed and reopened with everything back from the project."""

import threading

import numpy as np
import pandas as pd
import tifffile
import trackpy
from napari.utils.notifications import ErrorNotification

from helpers import notification_count, notifications_since
from napari_particle_detect._napari.volume_panel import VolumeDetectWidget, detect_volumes
from napari_particle_detect.learning.volume_finetune import VolumeRoundConfig
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

TINY = VolumeRoundConfig(steps=3, batch_size=2, crop=16, threads=1)
PLUGIN = "napari-particle-detect"
SMALL = VolumeConfig(shape=(12, 40, 40), volume_fraction=0.3, diameter=10.0, z_step=2.0)


def detect(dock, viewer, qtbot):
    dock.diameter.setValue(10.0)
    dock.button.click()
    qtbot.waitUntil(lambda: "vol 3D centres" in viewer.layers and dock.button.isEnabled(), timeout=60_000)
    return viewer.layers["vol 3D centres"]


def test_volume_review_loop_in_the_dock(make_napari_viewer, qtbot, project_home, tmp_path):
    viewer = make_napari_viewer()
    sample = synthesize_volume(VolumeConfig(shape=(16, 48, 48), volume_fraction=0.3, diameter=10.0, z_step=2.0), seed=4)
    viewer.add_image(sample.image, name="vol", scale=(2.0, 1.0, 1.0), units="um")  # a length: the export has z_um
    dock = VolumeDetectWidget(viewer)
    review, panel, rounds = dock.review, dock.review_panel, dock.round_panel
    assert review is not None and panel.accept_volume_button.isEnabled()
    points = detect(dock, viewer, qtbot)
    project = review.project
    assert project.current_round.origin == "shipped unet3d" and len(project.load_frame(0)) == len(points.data)
    threshold = dock.review_threshold()
    hidden = review.hidden()  # the near misses review-next weighs, none of them on screen
    assert ((hidden["score"] <= threshold) & (hidden["score"] > threshold - 0.2)).all()
    assert (project.load_frame(0)["score"] > threshold).all()

    points.add([[8.0, 40.0, 40.0]])  # an edit: saved at once, as the user's
    saved = project.load_frame(0)
    assert len(saved) == len(points.data) and (saved["source"] == "added").sum() == 1

    panel.set_z_range(0, 7)
    panel.accept_box((-0.5, -0.5, 23.5, 23.5))
    [box] = project.regions()
    assert box.z_range == (-0.5, 7.5) and "accepted 3D boxes" in viewer.layers
    before = project.load_frame(0)
    panel.accept_volume()
    assert project.reviewed_frames == [0] and (project.load_frame(0)["source"] != "model").all()
    panel.undo()  # the volume un-accepted, its points as they were
    assert project.reviewed_frames == [] and project.regions() == [box]
    pd.testing.assert_frame_equal(project.load_frame(0), before)
    assert (viewer.layers["vol 3D centres"].features["source"] == "model").any()

    assert panel.review_next().startswith("volume 0, z")  # a box where the model hesitates
    panel.accept_volume()

    rounds.run(TINY)
    qtbot.waitUntil(lambda: not rounds.running() and rounds.worker is None, timeout=60_000)
    assert [r.number for r in project.rounds] == [1, 2] and "held-out F1" in rounds.status.text()
    assert {"preparing", "scoring", "training", "done"} <= set(rounds.phases)
    rounds.run(VolumeRoundConfig(steps=500, batch_size=2, crop=16, threads=1))
    assert rounds.cancel(wait_s=30)
    qtbot.waitUntil(lambda: rounds.worker is None, timeout=30_000)
    assert "cancelled" in rounds.status.text() and len(project.rounds) == 2

    out = panel.export(tmp_path / "centres.csv")
    table = pd.read_csv(out)
    assert list(table.columns[:8]) == ["frame", "z", "y", "x", "score", "z_um", "y_um", "x_um"]
    np.testing.assert_allclose(table["z_um"], table["z"] * 2.0, atol=2e-4)  # both written to 4 places
    linked = trackpy.link(pd.concat([table, table.assign(frame=1)]), 3, pos_columns=["z", "y", "x"])
    assert linked["particle"].nunique() == len(table)

    # Closed and opened again: the points, the accepted areas and the rounds come back from the project.
    viewer.layers.remove("vol 3D centres")
    dock.close()
    again = VolumeDetectWidget(viewer)
    assert "vol 3D centres" in viewer.layers and len(viewer.layers["vol 3D centres"].data) == len(table)
    assert "round-002" in again.round_panel.rounds_label.text()
    # The last verdict again, as the round's end worded it: this dock has no rounds table to double-click.
    assert again.round_panel.status.text().startswith("round-002") and "double-click" not in again.round_panel.status.text()
    assert "accepted" in again.review_panel.status.text()
    again.review_panel.undo()  # after a restart Undo still takes back the newest acceptance
    assert again.review.project.reviewed_frames == []


def test_a_time_series_of_volumes_is_reviewed_per_time_point(make_napari_viewer, qtbot, project_home, tmp_path):
    viewer = make_napari_viewer()
    config = VolumeConfig(shape=(12, 40, 40), volume_fraction=0.3, diameter=10.0, z_step=2.0)
    series = np.stack([synthesize_volume(config, seed=s).image for s in (5, 6)])
    viewer.add_image(series, name="vol", scale=(1.0, 2.0, 1.0, 1.0))
    dock = VolumeDetectWidget(viewer)
    assert dock.axes_combo.currentText() == "TZYX"
    points = detect(dock, viewer, qtbot)
    assert points.ndim == 4 and set(np.rint(points.data[:, 0]).astype(int)) == {0, 1}
    viewer.dims.set_current_step(0, 1)
    assert dock.current_frame() == 1
    before = len(dock.review.project.load_frame(1))
    points.add([[1.0, 6.0, 20.0, 20.0]])  # an edit of time point 1 is saved there
    assert len(dock.review.project.load_frame(1)) == before + 1
    dock.review_panel.accept_volume()
    assert dock.review.project.reviewed_frames == [1]
    # A centre half a slice above the volume moves the z slider's steps half a slice off the slices: the
    # slice gone to, the box review-next draws and the slice the image shows must still be one slice.
    dock.points.add([[0.0, -0.5, 30.0, 30.0]])  # (accepting drew the layer again)
    assert viewer.dims.range[1].start == 0  # on slice 0, not half a slice before it
    image = viewer.layers["vol"]

    def shown() -> int:
        index = [i for i in range(12) if np.array_equal(np.asarray(image._slice.image.view), series[0, i])]
        assert len(index) == 1  # one slice, not a projection through the slab
        return index[0]

    for z in (4, 5):
        dock.go_to(0)
        dock.go_to_slice(z)
        assert dock.current_slice() == z == shown() == viewer.dims.current_step[1]  # the slider reads the slice
    assert dock.review_panel.review_next().startswith("volume 0")  # the unreviewed time point
    box = np.asarray(viewer.layers["3D review box"].data[0])
    assert box[0, 0] == dock.current_frame() == 0 and box[0, 1] == dock.current_slice() == shown()
    table = pd.read_csv(dock.review_panel.export(tmp_path / "series.csv"))
    assert set(table["frame"]) == {0, 1} and len(table) == len(dock.points.data)


def names(viewer):
    return [layer.name for layer in viewer.layers]


def open_from_plugins_menu(viewer):
    """The dock as a user opens it: Plugins > Volume detection (3D), through napari's viewer proxy."""
    _, dock = viewer.window.add_plugin_dock_widget(PLUGIN, "Volume detection (3D)")
    assert dock.viewer is viewer  # the proxy napari hands a plugin is unwrapped
    return dock


def detected_file(viewer, qtbot, path, diameter: float):
    """A small ZYX volume written to ``path``, opened as a user opens it, detected at ``diameter`` in the dock
    opened from the Plugins menu."""
    tifffile.imwrite(path, synthesize_volume(SMALL, seed=7).image, imagej=True, metadata={"axes": "ZYX"})
    viewer.open(str(path), plugin="napari")
    dock = open_from_plugins_menu(viewer)
    dock.diameter.setValue(diameter)
    dock.button.click()
    qtbot.waitUntil(lambda: f"{path.stem} 3D centres" in viewer.layers and dock.button.isEnabled(), timeout=60_000)
    return dock


def test_closing_the_image_or_the_dock_puts_the_layers_away_and_brings_them_back_once(
        make_napari_viewer, qtbot, project_home, tmp_path):
    viewer = make_napari_viewer()
    path = tmp_path / "conf.tif"
    dock = detected_file(viewer, qtbot, path, 10.0)
    project = dock.review.project
    dock.points.add([[6.0, 20.0, 20.0]])

    viewer.layers.remove("conf")  # the image goes: its centres go with it, saved
    assert names(viewer) == [] and (project.load_frame(0)["source"] == "added").sum() == 1
    viewer.open(str(path), plugin="napari")  # and come back once when it is opened again
    assert names(viewer) == ["conf", "conf 3D centres"]
    layer = viewer.layers["conf 3D centres"]
    assert layer is dock.points and (layer.features["source"] == "added").sum() == 1
    layer.add([[6.0, 30.0, 10.0]])  # edits on it reach the project
    assert (project.load_frame(0)["source"] == "added").sum() == 2

    viewer.window.remove_dock_widget(dock)  # the dock's X: its layers are put away too
    assert names(viewer) == ["conf"] and dock.closed
    again = open_from_plugins_menu(viewer)
    assert names(viewer) == ["conf", "conf 3D centres"]  # one layer, not a second '[1]'
    assert (again.points.features["source"] == "added").sum() == 2


def test_detect_again_keeps_unaccepted_edits_one_undo_away(make_napari_viewer, qtbot, project_home):
    viewer = make_napari_viewer()
    viewer.add_image(synthesize_volume(SMALL, seed=8).image, name="vol", scale=(2.0, 1.0, 1.0))
    dock = VolumeDetectWidget(viewer)
    points = detect(dock, viewer, qtbot)
    project = dock.review.project
    points.add([[6.0, 20.0, 20.0], [6.0, 30.0, 30.0]])
    points.selected_data = {0}
    points.remove_selected()
    edited = project.load_frame(0)
    assert edited["source"].value_counts().to_dict().get("added") == 2
    seen = notification_count()
    points = detect(dock, viewer, qtbot)
    assert set(project.load_frame(0)["source"]) == {"model"}
    said = "detected again over your edits on volume 0: Undo brings them back"
    assert said in dock.status.text() and said in notifications_since(seen)
    dock.review_panel.undo()  # the edits come back, on disk and on screen
    pd.testing.assert_frame_equal(project.load_frame(0), edited)
    assert (viewer.layers["vol 3D centres"].features["source"] == "added").sum() == 2
    assert project.reviewed_areas() == []
    detect(dock, viewer, qtbot)  # the edits brought back are edits: replaced again, one undo away again
    assert said in dock.status.text() and len(dock.review.steps) == 1
    shown = project.load_frame(0)
    seen = notification_count()
    dock.threshold.setValue(0.8)  # other centres, over a volume not edited since: nothing kept, nothing said
    detect(dock, viewer, qtbot)
    assert len(project.load_frame(0)) < len(shown)
    assert not any("over your edits" in m for m in notifications_since(seen)) and len(dock.review.steps) == 1


def test_a_blank_time_point_is_skipped_and_a_nan_volume_is_one_line(make_napari_viewer, qtbot, project_home):
    viewer = make_napari_viewer()
    volume = synthesize_volume(SMALL, seed=9).image
    viewer.add_image(np.stack([volume, np.zeros_like(volume), volume]), name="vol")
    dock = VolumeDetectWidget(viewer)
    points = detect(dock, viewer, qtbot)
    assert set(np.rint(points.data[:, 0]).astype(int)) == {0, 2}
    assert "vol volume 1: volume is constant (every voxel is 0); nothing to detect (volume 1 skipped" in \
        dock.status.text()
    viewer.layers.remove("vol")
    viewer.add_image(np.full(volume.shape, np.nan, np.float32), name="nan")  # a few NaN voxels: detected around
    seen = notification_count()
    dock.button.click()
    qtbot.waitUntil(lambda: dock.button.isEnabled() and dock.worker is None, timeout=60_000)
    assert dock.status.text() == "error: nan: every voxel is NaN or infinite; nothing to detect"
    from napari.utils.notifications import notification_manager

    new = notification_manager.records[seen:]
    assert [str(n.message) for n in new] == ["nan: every voxel is NaN or infinite; nothing to detect"]
    assert not any(isinstance(n, ErrorNotification) for n in new)  # no "View Traceback": an expected error


def test_another_images_diameter_is_not_used_as_given_for_this_one(make_napari_viewer, qtbot, project_home, tmp_path):
    # Reopening A's project put A's diameter in the box; choosing B then detected B at it, called 'given'.
    viewer = make_napari_viewer()
    path = tmp_path / "a.tif"
    dock = detected_file(viewer, qtbot, path, 9.0)
    viewer.layers.remove("a")
    viewer.open(str(path), plugin="napari")  # A again: its project puts its size back in the box
    assert dock.diameter.value() == 9.0
    dock.button.click()
    qtbot.waitUntil(lambda: dock.button.isEnabled() and "centres;" in dock.status.text(), timeout=60_000)
    assert "as this image was detected before" in dock.status.text() and "given" not in dock.status.text()
    viewer.add_image(synthesize_volume(SMALL, seed=8).image, name="b")
    dock.layer_combo.setCurrentText("b")
    assert dock.diameter.value() == 0.0  # auto: B's own estimate, not A's size


def test_a_voxel_size_typed_after_detect_reaches_the_export_and_comes_back(make_napari_viewer, qtbot, project_home,
                                                                           tmp_path):
    path = tmp_path / "raw.tif"  # ImageJ spacing in 'pixel': no length, so no micrometres from it
    tifffile.imwrite(path, synthesize_volume(SMALL, seed=7).image, imagej=True,
                     resolution=(1.0, 1.0), metadata={"axes": "ZYX", "spacing": 2.0, "unit": "pixel"})
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="napari")
    dock = open_from_plugins_menu(viewer)
    dock.diameter.setValue(9.0)
    dock.button.click()
    qtbot.waitUntil(lambda: "raw 3D centres" in viewer.layers and dock.button.isEnabled(), timeout=60_000)
    for spin, value in zip(dock.voxel, (0.4, 0.2, 0.2)):
        spin.setValue(value)  # typed after Detect
    exported = pd.read_csv(dock.review_panel.export(tmp_path / "out.csv"))
    assert {"z_um", "y_um", "x_um"} <= set(exported.columns)  # they were missing
    np.testing.assert_allclose(exported["z_um"], exported["z"] * 0.4, atol=2e-3)
    viewer.layers.remove("raw")
    viewer.open(str(path), plugin="napari")
    assert [round(s.value(), 3) for s in dock.voxel] == [0.4, 0.2, 0.2] and "µm" in dock.voxel[0].suffix()


def test_detect_in_a_later_session_keeps_an_earlier_sessions_edits_one_undo_away(make_napari_viewer, qtbot,
                                                                                  project_home, tmp_path):
    # A centre moved and another deleted, saved but not accepted, then the window closed: the next session's
    # Detect replaced them with no notice and nothing to undo (only points placed by hand were known as edits).
    path = tmp_path / "conf.tif"
    first = make_napari_viewer()
    points = detected_file(first, qtbot, path, 10.0).points
    moved = points.data.copy()
    moved[1, -2:] += 3.0
    points.data = moved
    points.selected_data = {0}
    points.remove_selected()
    first.close()

    second = make_napari_viewer()
    second.open(str(path), plugin="napari")
    dock = open_from_plugins_menu(second)
    project = dock.review.project
    edited = project.load_frame(0)
    assert "added" not in set(edited["source"]) and len(edited) == len(dock.points.data)
    said = "detected again over your edits on volume 0: Undo brings them back"
    seen = notification_count()
    dock.button.click()
    qtbot.waitUntil(lambda: dock.button.isEnabled() and "centres;" in dock.status.text(), timeout=60_000)
    assert said in dock.status.text() and said in notifications_since(seen)
    dock.review_panel.undo()  # the edits come back, on disk and on screen
    pd.testing.assert_frame_equal(project.load_frame(0), edited)
    np.testing.assert_allclose(second.layers["conf 3D centres"].data, edited[["z", "y", "x"]], atol=1e-3)


def test_a_detection_ending_after_its_image_was_closed_keeps_the_edits_of_the_volume_it_would_replace(
        make_napari_viewer, qtbot, project_home):
    # Saved into the closed image's review, the late detection replaced volume 0's edits and told the user Undo
    # brings them back: that Undo stayed in the review thrown away, and the reopened dock's Undo had no such step.
    viewer = make_napari_viewer()
    series = np.stack([synthesize_volume(SMALL, seed=seed).image for seed in (10, 11)])
    viewer.add_image(series, name="vol")
    dock = VolumeDetectWidget(viewer)
    points = detect(dock, viewer, qtbot)
    review, image = dock.review, viewer.layers["vol"]
    project = review.project
    points.add([[0.0, 6.0, 20.0, 20.0]])  # volume 0 edited, volume 1 not
    edited, untouched = project.load_frame(0), project.load_frame(1)
    dock.threshold.setValue(0.8)  # other centres than those saved
    options = dock.options()
    # The worker's result, handed to the dock as its returned signal would after the image was closed (Stop is
    # only checked between volumes): a real worker's timing against the close is not reliable.
    result = detect_volumes(dock.volumes(), project.round_path(project.current_round.number), options, "vol",
                            threading.Event(), threading.Event())
    viewer.layers.remove("vol")
    seen = notification_count()
    dock._detected(result, review, image, options, dock._voxel_unit, series.shape[1:])
    assert dock.status.text().endswith("; volume 0 kept your edits: Detect again there to replace them"), \
        dock.status.text()
    assert not any("Undo" in m for m in notifications_since(seen))
    pd.testing.assert_frame_equal(project.load_frame(0), edited)
    assert len(project.load_frame(1)) < len(untouched)  # the volume not edited takes the detection

    viewer.add_image(series, name="vol")  # opened again: the edits are back, and still edits
    assert (dock.points.features["source"] == "added").sum() == 1
    # Arriving once the image is open again, the result is this dock's: it replaces them, one Undo away here.
    dock._detected(result, review, image, options, dock._voxel_unit, series.shape[1:])
    assert "detected again over your edits on volume 0: Undo brings them back" in dock.status.text()
    dock.review_panel.undo()
    pd.testing.assert_frame_equal(dock.review.project.load_frame(0), edited)
    assert (dock.points.features["source"] == "added").sum() == 1
