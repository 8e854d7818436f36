"""The volume dock's review loop for real in napari (issue 20, item 4): detect, edit (saved at once),
accept a 3D box and a volume, undo, review-next, a fine-tuning round and a cancelled one, export
(trackpy links it), and the dock closed and reopened with everything back from the project."""

import numpy as np
import pandas as pd
import trackpy

from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.learning.volume_finetune import VolumeRoundConfig
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

TINY = VolumeRoundConfig(steps=3, batch_size=2, crop=16, threads=1)


def detect(dock, viewer, qtbot):
    dock.diameter.setValue(10.0)
    dock.button.click()
    qtbot.waitUntil(lambda: "vol 3D centres" in viewer.layers and dock.button.isEnabled(), timeout=60_000)
    return viewer.layers["vol 3D centres"]


def test_volume_review_loop_in_the_dock(make_napari_viewer, qtbot, project_home, tmp_path):
    viewer = make_napari_viewer()
    sample = synthesize_volume(VolumeConfig(shape=(16, 48, 48), volume_fraction=0.3, diameter=10.0, z_step=2.0), seed=4)
    viewer.add_image(sample.image, name="vol", scale=(2.0, 1.0, 1.0))
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
    np.testing.assert_allclose(table["z_um"], table["z"] * 2.0)
    linked = trackpy.link(pd.concat([table, table.assign(frame=1)]), 3, pos_columns=["z", "y", "x"])
    assert linked["particle"].nunique() == len(table)

    # Closed and opened again: the points, the accepted areas and the rounds come back from the project.
    viewer.layers.remove("vol 3D centres")
    dock.close()
    again = VolumeDetectWidget(viewer)
    assert "vol 3D centres" in viewer.layers and len(viewer.layers["vol 3D centres"].data) == len(table)
    assert "round-002" in again.round_panel.rounds_label.text()
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
    assert dock.review_panel.review_next().startswith("volume 0")  # the unreviewed time point
    table = pd.read_csv(dock.review_panel.export(tmp_path / "series.csv"))
    assert set(table["frame"]) == {0, 1} and len(table) == len(points.data)
