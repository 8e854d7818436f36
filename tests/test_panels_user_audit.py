"""What user audits of the Tracks and Detect panels found: a time-lapse's frame interval and an image's pixel
size reach the MSD unrounded, 1 fps and 1 µm/px are units like any other, and the Detect bar names the image
it counts when the dock shows another."""

import json

import numpy as np
import pandas as pd
import pytest

from helpers import make_widget, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def _moving_centres(widget, frames: int) -> None:
    """Three particles, each a pixel further every frame."""
    points = widget.annotation.ensure_points_layer()
    for frame in range(frames):
        points.add([[frame, 10.0 + frame, 12.0], [frame, 40.0, 20.0 + frame], [frame, 30.0 - frame, 50.0]])


def _type_into(qtbot, box, text: str) -> None:
    from qtpy.QtCore import Qt

    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), text)
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)


def _link(panel, qtbot) -> None:
    panel.link()
    qtbot.waitUntil(lambda: not panel.running(), timeout=60_000)


def test_a_time_lapse_interval_and_the_images_pixel_size_reach_the_msd_unrounded(make_napari_viewer, qtbot,
                                                                                  tmp_path):
    """One frame every 10 min: the fps box rounded 1/600 to 0.002, so lag times read 500, 1000, 1500 s (D 20 %
    too high, unsaid), and an interval over 1000 s could not be given; the image's 0.01625 µm/px was 0.0163."""
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((4, 64, 64), np.uint16), name="timelapse", scale=(1.0, 0.01625, 0.01625),
                     units=("pixel", "um", "um"))
    widget = make_widget(viewer, None)
    _moving_centres(widget, 4)
    panel = widget.tracks
    _link(panel, qtbot)  # µm/px from the image, no frame rate yet
    squared = [0.01625**2, 4 * 0.01625**2, 9 * 0.01625**2]
    np.testing.assert_allclose(panel.linked.msd["msd"], squared, rtol=1e-9)  # it was 0.0163's, 0.6 % more

    _type_into(qtbot, panel.interval_spin, "3600")  # an hour: more than the 1000 s the fps box allowed
    assert panel.fps_spin.exact_value() == 1 / 3600
    _type_into(qtbot, panel.interval_spin, "600")
    assert panel.fps_spin.exact_value() == 1 / 600 and panel.fps_spin.text() == "0.001667"
    assert panel.mpp_spin.exact_value() == 0.01625 and panel.mpp_spin.text() == "0.01625"

    _link(panel, qtbot)
    msd = panel.linked.msd
    assert msd["lagt"].tolist() == [600.0, 1200.0, 1800.0]
    np.testing.assert_allclose(msd["msd"], squared, rtol=1e-9)
    assert (panel.plot.axes.get_xlabel(), panel.plot.axes.get_ylabel()) == ("lag time (s)", "MSD (µm²)")

    written = panel.export(tmp_path / "timelapse_tracks.csv")
    record = json.loads((tmp_path / "timelapse_tracks_msd.json").read_text(encoding="utf-8"))
    assert {k: record[k] for k in ("mpp", "mpp_from", "fps", "frame_interval_s")} == {
        "mpp": 0.01625, "mpp_from": "the image's pixel size", "fps": 1 / 600, "frame_interval_s": 600.0}
    assert record["units"]["lagt"] == "s" and written == tmp_path / "timelapse_tracks.csv"
    assert pd.read_csv(tmp_path / "timelapse_tracks_msd.csv")["lagt"].tolist() == [600, 1200, 1800]

    # A frame rate typed instead: the interval follows it, the lag times are its frames / fps, as link --fps.
    _type_into(qtbot, panel.fps_spin, "24")
    assert panel.interval_spin.exact_value() == 1 / 24
    _link(panel, qtbot)
    assert panel.linked.msd["lagt"].tolist() == [1 / 24, 2 / 24, 3 / 24]
    assert panel.linked.settings.frame_interval() == 1 / 24


def test_one_fps_and_one_micron_per_pixel_are_units_and_none_is_its_own_setting(make_napari_viewer, qtbot):
    """1 fps and 1 µm/px stood for 'no units' (px² and frames), so a camera at 1 fps got its MSD in frames."""
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((3, 64, 64), np.uint16), name="plain")  # no micrometre scale
    widget = make_widget(viewer, None)
    _moving_centres(widget, 3)
    panel = widget.tracks
    _type_into(qtbot, panel.fps_spin, "1")
    _type_into(qtbot, panel.mpp_spin, "1")
    _link(panel, qtbot)
    assert (panel.plot.axes.get_xlabel(), panel.plot.axes.get_ylabel()) == ("lag time (s)", "MSD (µm²)")
    settings = panel.linked.settings
    assert (settings.microns_per_pixel, settings.mpp_from, settings.frames_per_second) == (
        1.0, "the panel's µm/px", 1.0)

    # No units is the boxes' lowest setting, said as such.
    _type_into(qtbot, panel.fps_spin, "0")
    _type_into(qtbot, panel.mpp_spin, "0")
    assert (panel.mpp_spin.text(), panel.fps_spin.text(), panel.interval_spin.text()) == (
        "none (px)", "none (frames)", "none (frames)")
    _link(panel, qtbot)
    assert (panel.plot.axes.get_xlabel(), panel.plot.axes.get_ylabel()) == ("lag time (frames)", "MSD (px²)")


def test_the_detect_bar_names_the_image_it_counts_when_the_dock_shows_another(make_napari_viewer, qtbot,
                                                                               light_model):
    """Detect on every frame of 'big', then 'stack' picked: the bar under 'stack' said '6 / 6 frames' of 'big'."""
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(6, 64), name="big")
    viewer.add_image(small_stack(2, 64), name="stack")
    widget = make_widget(viewer, light_model)
    widget.image_combo.setCurrentText("big")
    widget.detect.scope_combo.setCurrentIndex(1)
    widget.detect.run_button.click()
    bar = widget.detect.progress
    assert bar.format() == "%v / %m frames"  # its own image shown: no name
    widget.image_combo.setCurrentText("stack")
    assert widget.annotation.image.name == "stack" and bar.format().startswith("'big': %v / %m frames")
    qtbot.waitUntil(lambda: not widget.detect.running(), timeout=60_000)
    assert bar.text() == "'big': 6 / 6 frames"
