"""The MSD's power law quoted at a lag within those fitted, the same in ``particle-detect link`` and the dock's
Tracks panel; and the bundled bulk-water movie's 24 fps, in its file, taken by both.

The power law was always said 'at 1 s': a time-lapse's fitted lags of 600 s and up, or a fast camera's of 1-10 ms,
lie far from 1 s, so the MSD said was the fit extrapolated beyond its data. And the bulk-water sample carried its
pixel size but no frame interval, so its MSD came in frames where the movie is 24 fps."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.files.calibration import file_calibration
from napari_particle_detect.files.tracks import describe_msd, ensemble_msd, fit_power_law, msd_units
from napari_particle_detect.shipped import SAMPLE_DATA_DIR

BULK_WATER = SAMPLE_DATA_DIR / "trackpy_bulk_water_3.tif"
STARTS = [(10.0, 12.0), (40.0, 20.0), (30.0, 50.0)]


def ballistic(frames: int) -> pd.DataFrame:
    """Three particles, each a pixel further along y every frame: an MSD of lag² px² (lag in frames)."""
    return pd.DataFrame([{"frame": frame, "y": y + frame, "x": x, "particle": i}
                         for frame in range(frames) for i, (y, x) in enumerate(STARTS)])


@pytest.mark.parametrize("frames_per_second, said", [
    (1 / 600, "MSD = 36 px² at 1 h, exponent 2.00, fitted over lags 600-6000 s"),  # 6 frames of 10 min
    (1000.0, "MSD = 1 px² at 1 ms, exponent 2.00, fitted over lags 0.001-0.01 s"),  # 1 frame of 1 ms
    (24.0, "MSD = 1 px² at 0.04167 s, exponent 2.00, fitted over lags 0.04167-0.4167 s"),  # no round lag within
    (2.0, "MSD = 4 px² at 1 s, exponent 2.00, fitted over lags 0.5-5 s"),
    (None, "MSD = 1 px² at 1 frame, exponent 2.00, fitted over lags 1-10 frames"),
])
def test_the_power_law_is_quoted_at_a_lag_within_those_fitted(frames_per_second, said):
    msd = ensemble_msd(ballistic(12), 1.0, frames_per_second or 1.0)
    assert describe_msd(fit_power_law(msd), msd_units(None, frames_per_second), msd) == said


@pytest.mark.usefixtures("project_home")
def test_link_and_the_tracks_panel_say_a_time_lapses_msd_alike(make_napari_viewer, qtbot, tmp_path, capsys):
    from helpers import make_widget

    said = "MSD = 36 px² at 1 h, exponent 2.00, fitted over lags 600-6000 s"
    ballistic(12).drop(columns="particle").to_csv(tmp_path / "centres.csv", index=False)
    assert main(["link", str(tmp_path / "centres.csv"), "-o", str(tmp_path / "t.csv"), "--msd",
                 str(tmp_path / "m.csv"), "--fps", str(1 / 600)]) == 0
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"MSD -> {tmp_path / 'm.csv'} ({said})"

    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((12, 64, 64), np.uint16), name="time-lapse")
    widget = make_widget(viewer, None)
    points = widget.annotation.ensure_points_layer()
    for frame in range(12):
        points.add([[frame, y + frame, x] for y, x in STARTS])
    panel = widget.tracks
    panel.interval_spin.setValue(600.0)
    panel.link()
    qtbot.waitUntil(lambda: not panel.running(), timeout=60_000)
    assert panel.status.text().endswith(f"; {said}")


def test_the_bulk_water_sample_gives_its_24_fps_to_link(tmp_path, monkeypatch, capsys):
    assert file_calibration(BULK_WATER).frame_interval_s == pytest.approx(1 / 24, rel=1e-12)
    assert file_calibration(BULK_WATER).pixel_um == pytest.approx((100 / 285,) * 2, rel=1e-12)  # as before
    assert tifffile.imread(BULK_WATER).sum(dtype=np.int64) == 103_461_308  # the same pixels

    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_HOME", str(tmp_path / "home"))
    # A diameter the model works at without resampling, on torch (no ONNX export): a second, not four.
    assert main(["-q", "detect", str(BULK_WATER), "-o", str(tmp_path / "out") + "/", "--diameter", "24",
                 "--runtime", "torch", "--device", "cpu"]) == 0
    detected = tmp_path / "out" / "trackpy_bulk_water_3.csv"
    assert main(["link", str(detected), "-o", str(tmp_path / "t.csv"), "--msd", str(tmp_path / "m.csv")]) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0] == (f"µm per pixel 0.3509 and 24 frames per second from {BULK_WATER}'s metadata (recorded in "
                        f"{detected.with_suffix('.json')})")
    assert " µm² at 0.04167 s, exponent " in lines[-1] and lines[-1].endswith("fitted over lags 0.04167-0.08333 s)")
    assert json.loads((tmp_path / "m.json").read_text())["fps"] == pytest.approx(24.0, rel=1e-12)


@pytest.mark.usefixtures("project_home")
def test_the_tracks_panel_takes_the_bulk_water_samples_24_fps(make_napari_viewer, qtbot):
    from helpers import make_widget

    viewer = make_napari_viewer()
    viewer.open_sample("napari-particle-detect", "bulk_water")
    widget = make_widget(viewer, None)
    panel = widget.tracks
    assert panel.fps_spin.exact_value() == 24.0  # not 1 over the interval box's rounding of 1/24 s
    assert (panel.fps_spin.text(), panel.calibration_note.text()) == (
        "24", "from trackpy_bulk_water_3.tif's metadata: frames 0.0416667 s apart")
    points = widget.annotation.ensure_points_layer()
    for frame in range(3):
        points.add([[frame, y + frame, x] for y, x in STARTS])
    panel.link()
    qtbot.waitUntil(lambda: not panel.running(), timeout=60_000)
    assert panel.status.text().endswith("; MSD = 0.1231 µm² at 0.04167 s, exponent 2.00, fitted over lags "
                                        "0.04167-0.08333 s")  # 1 px of 100/285 µm a frame
    assert panel.linked.settings.fps_from == "trackpy_bulk_water_3.tif's metadata"
