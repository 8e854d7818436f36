"""The Rods and chains dock, and the Volume (3D) dock, at the edges of what they follow: the slider past the chosen
stack's last frame (a longer layer lets it go there), an image renamed while its layers were put away, lines drawn
over background, and a centres layer renamed by the user.

The model is not what these test: the rods dock is given rods as a detection."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage

from napari_particle_detect._napari import kinds_widget
from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.synthetic.rods import benchmark_rod_config, render_rods, rod_table, synthesize_rods
from napari_particle_detect.synthetic.spheres import SynthConfig

from helpers import kinds_dock, notification_count, notifications_since

PLUGIN = "napari-particle-detect"
SHORT_PAST_ITS_END = ("the slider is past 'short''s last frame (2 frames), so none of it is drawn: move it back "
                      "onto frames 0-1")

pytestmark = pytest.mark.usefixtures("project_home")


def one_rod(frame: int = 0) -> pd.DataFrame:
    return rod_table([24.0], [24.0], [0.0], [20.0], [4.0]).assign(frame=frame, score=0.9)


def short_beside_long(make_napari_viewer):
    """'short' (2 frames, frame 0 detected) beside 'long' (6 frames), the rods dock on 'short': (viewer, widget)."""
    viewer = make_napari_viewer()
    rng = np.random.default_rng(0)
    viewer.add_image(rng.random((2, 48, 48)).astype(np.float32), name="short")
    viewer.add_image(rng.random((6, 48, 48)).astype(np.float32), name="long")
    widget = kinds_dock(viewer, "rods", "short")
    widget.session.set_detections(one_rod(), [0])
    return viewer, widget


def test_past_the_stacks_last_frame_the_dock_says_so_and_detects_and_accepts_nothing(make_napari_viewer):
    # Its line said "frame 5 not detected yet: Detect finds rods in it"; Detect then failed in its worker (naming
    # "image") and left "finding rods in short…" on the line; Accept frame said frame 5 was never detected.
    viewer, widget = short_beside_long(make_napari_viewer)
    project = widget.session.project
    viewer.dims.set_current_step(0, 5)
    assert widget.status.text() == SHORT_PAST_ITS_END
    assert widget.review.status.text().startswith("frame 5: past the stack's last frame")

    seen = notification_count()
    widget.detect()
    assert widget.worker is None and widget.status.text() == SHORT_PAST_ITS_END
    widget.review.accept_frame()
    widget.review.unaccept()
    assert notifications_since(seen) == [SHORT_PAST_ITS_END] * 3
    assert project.saved_frames() == [0] and project.reviewed_frames == []

    viewer.dims.set_current_step(0, 0)
    widget.review.accept_frame()
    assert project.reviewed_frames == [0]


def test_a_detection_that_fails_names_the_layer_and_leaves_the_line_it_was_on(make_napari_viewer, qtbot,
                                                                              monkeypatch):
    with pytest.raises(ParticleDetectError, match="^short: frame 5 is out of range"):
        kinds_widget.detect_in(np.zeros((2, 48, 48), np.float32), "rods", None, None, 5, "short")

    def failing(*args):
        raise ParticleDetectError("short: cannot read its pixels")

    viewer, widget = short_beside_long(make_napari_viewer)
    before = widget.status.text()
    monkeypatch.setattr(kinds_widget, "detect_in", failing)
    seen = notification_count()
    widget.detect()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=30_000)
    assert notifications_since(seen) == ["short: cannot read its pixels"]
    assert widget.status.text() == before and widget.detect_button.isEnabled()


@pytest.mark.parametrize("away_by", ["closing the dock", "another kind"])
def test_an_image_renamed_while_its_layers_are_put_away_takes_them_back(make_napari_viewer, qtbot, away_by):
    # Reopened under the new name, the dock made a second 'run2 rods' beside the old one, left empty, hidden and
    # locked under the old name.
    viewer = make_napari_viewer()
    image = viewer.add_image(np.random.default_rng(0).random((48, 48)).astype(np.float32), name="run1")
    widget = kinds_dock(viewer, "rods", "run1")
    qtbot.waitUntil(lambda: widget._watched_window is not None)  # shown in its window, it hears its X
    widget.session.set_detections(one_rod(), [0])
    widget.session.accept_region(0, (0.0, 0.0, 30.0, 30.0))
    ours = {layer.name: layer for layer in viewer.layers if layer is not image}
    assert set(ours) == {"run1 rods", "run1 rods reviewed regions"}

    if away_by == "closing the dock":
        viewer.window.remove_dock_widget(widget)
        qtbot.waitUntil(lambda: widget.closed)  # as napari hears its X
        widget.kind_combo.setCurrentText("chains")
    image.name = "run2"
    if away_by == "closing the dock":
        widget = kinds_dock(viewer, "rods", "run2")
    else:
        widget.kind_combo.setCurrentText("rods")

    assert {layer.name for layer in viewer.layers if layer is not image and layer.visible} == {
        "run2 rods", "run2 rods reviewed regions"} == {layer.name for layer in viewer.layers if layer is not image}
    assert not any(layer.name.startswith("run1") for layer in viewer.layers)
    assert len(viewer.layers["run2 rods"].data) == 1 and widget.session.project.regions(0)


def test_lines_drawn_over_background_keep_the_frames_width(make_napari_viewer):
    # Measured alone, a line's own noise chose the rods' look and calibration: lines over background on a frame of
    # 7 px rods read 16-19 px, or 4. (A line over a wide rod takes that rod's width: test_kinds_volume_dock_audit.)
    config = benchmark_rod_config("fluorescent", 0.15)
    sample = synthesize_rods(replace(config, optics=replace(config.optics, shape=(256, 256))), seed=702)
    truth = sample.table
    viewer = make_napari_viewer()
    viewer.add_image(sample.image, name="img")
    widget = kinds_dock(viewer, "rods", "img")
    widget.session.set_detections(truth.assign(frame=0, score=0.9), [0])
    median = float(np.median(widget.session.tables[0]["width"]))

    drawn_alone = render_rods(SynthConfig(shape=(256, 256), look="fluorescent"), truth, "rods",
                              np.random.default_rng(0))
    far = ndimage.distance_transform_edt(drawn_alone < 0.02 * drawn_alone.max())
    spots = np.argwhere(far > 14)
    spots = spots[np.random.default_rng(1).choice(len(spots), 12, replace=False)]
    layer = widget.session.main_layer
    for y, x in spots:
        layer.add_lines(np.array([[y - 6.0, x - 8.0], [y + 6.0, x + 8.0]]))
    added = widget.session.tables[0].query("source == 'added'")["width"].to_numpy()
    assert added == pytest.approx([median] * len(spots))


def test_a_centres_layer_renamed_by_the_user_keeps_its_name_until_the_image_is_renamed(make_napari_viewer):
    # Every layer added or removed named it after the image again.
    viewer = make_napari_viewer()
    image = viewer.add_image(np.random.default_rng(1).random((8, 24, 24)).astype(np.float32), name="vol")
    dock = VolumeDetectWidget(viewer)
    dock.layer_combo.setCurrentText("vol")
    dock.show_points(image, pd.DataFrame({"frame": [0], "z": [4.0], "y": [12.0], "x": [12.0], "score": [np.nan],
                                          "source": ["added"]}), 6.0, 6.0)
    dock.points.name = "my centres"
    viewer.add_image(np.zeros((8, 24, 24), np.float32), name="other")
    assert dock.points.name == "my centres"
    image.name = "run1"
    assert dock.points.name == "run1 3D centres"
