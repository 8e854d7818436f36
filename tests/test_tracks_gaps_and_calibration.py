"""Drift across dropped frames, the tracks panel's units from the image file, and link on a one-frame table.

A dropped (blank) frame left the drift where it was before it (trackpy's compute_drift averages steps between
consecutive frames only), so every later frame kept too little drift and the MSD came out too large; an ImageJ
TIFF opened with napari's own reader gave the dock's MSD in px² and frames though the file says 0.2 µm/px and
0.5 s; and link --msd of a movie detected as one volume advised a larger search range."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.tracks import compute_drift, ensemble_msd, subtract_drift

DRIFT = (1.5, -0.4)  # px per frame, as the audit's 1.5 px a frame
STEP = 0.8  # px per axis per frame
DROPPED = [20, 40]


def drifting_walk(frames: int = 60, particles: int = 120, seed: int = 3) -> pd.DataFrame:
    """Truth tracks: particles diffusing STEP px per axis per frame on a steady DRIFT, every one in every frame."""
    rng = np.random.default_rng(seed)
    start = rng.uniform(0, 500, (1, particles, 2))
    steps = rng.normal(0, STEP, (frames, particles, 2)) + np.asarray(DRIFT)
    steps[0] = 0.0
    positions = start + np.cumsum(steps, axis=0)
    return pd.DataFrame({"frame": np.repeat(np.arange(frames), particles), "y": positions[..., 0].ravel(),
                         "x": positions[..., 1].ravel(), "particle": np.tile(np.arange(particles), frames)})


def test_the_drift_across_dropped_frames_is_the_drift_of_every_frame_and_the_msd_unchanged():
    tracks = drifting_walk()
    gapped = tracks[~tracks["frame"].isin(DROPPED)]
    full, across = compute_drift(tracks), compute_drift(gapped)
    kept = sorted(set(gapped["frame"]))
    # It stopped at each gap: 82.6 px of 88.6 at the last frame in the audit's movie.
    np.testing.assert_allclose(across.loc[kept, ["y", "x"]], full.loc[kept, ["y", "x"]], atol=1e-6)
    # The dropped frames themselves: half way along the particles' motion across them.
    for frame in DROPPED:
        np.testing.assert_allclose(across.loc[frame], (full.loc[frame - 1] + full.loc[frame + 1]) / 2, atol=1e-6)
    ratio = (ensemble_msd(subtract_drift(gapped, across), max_lag=30)["msd"]
             / ensemble_msd(subtract_drift(tracks, full), max_lag=30)["msd"])
    assert ratio.between(0.97, 1.03).all(), ratio.round(3).tolist()  # 1.13 at 1 frame, 1.46 at 30 before

    # Smoothed as trackpy smooths: across the gaps as near the drift of every frame as smoothing leaves it.
    smoothed_full, smoothed_across = compute_drift(tracks, 5), compute_drift(gapped, 5)
    np.testing.assert_allclose(smoothed_across.loc[kept], smoothed_full.loc[kept], atol=0.3)


def test_without_a_dropped_frame_the_drift_is_trackpys_and_a_particles_own_skip_adds_nothing():
    import trackpy

    tracks = drifting_walk(frames=20, particles=30)
    # Particle 0 unseen in frames 5 and 6 (linked across by memory): the others are seen in those frames.
    tracks = tracks[~((tracks["particle"] == 0) & tracks["frame"].isin([5, 6]))]
    for smoothing in (0, 3):
        expected = trackpy.compute_drift(tracks, smoothing=smoothing, pos_columns=["y", "x"])
        got = compute_drift(tracks, smoothing)
        np.testing.assert_allclose(got.loc[expected.index, ["y", "x"]], expected[["y", "x"]], rtol=0, atol=0)


def test_link_drift_across_a_dropped_frame_gives_the_msd_of_every_frame(tmp_path, capsys):
    tracks = drifting_walk(frames=40, particles=60)
    for name, table in (("all", tracks), ("gap", tracks[tracks["frame"] != 20])):
        table.drop(columns="particle").to_csv(tmp_path / f"{name}.csv", index=False)
        code = main(["link", str(tmp_path / f"{name}.csv"), "-o", str(tmp_path / f"{name}_tracks.csv"), "--drift",
                     "--msd", str(tmp_path / f"{name}_msd.csv"), "--search-range", "4", "--memory", "2"])
        assert code == 0, capsys.readouterr().err
    # The first 10 lags, each of hundreds of displacements (the longest, of a few, differ by the frame left out).
    ratio = (pd.read_csv(tmp_path / "gap_msd.csv")["msd"] / pd.read_csv(tmp_path / "all_msd.csv")["msd"])[:10]
    assert ratio.between(0.95, 1.05).all(), ratio.round(3).tolist()
    assert "drift: 2 frames reached by no particle from the frame before (20, 21)" in capsys.readouterr().err


def test_link_msd_of_one_frame_says_so_and_a_volume_read_from_slices_is_detected_again_as_frames(tmp_path, capsys):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"frame": 0, "z": rng.uniform(0, 19, 50), "y": rng.uniform(0, 255, 50),
                          "x": rng.uniform(0, 255, 50), "score": 0.9})
    table.to_csv(tmp_path / "slices.csv", index=False)
    args = ["link", str(tmp_path / "slices.csv"), "-o", str(tmp_path / "t.csv"), "--msd", str(tmp_path / "m.csv")]
    assert main(args) == 2
    error = capsys.readouterr().err.strip()
    assert error == (f"particle-detect: error: {tmp_path / 'slices.csv'}: its centres are all in one frame (frame 0), "
                     "so nothing moved and there is no MSD to measure")
    assert "search range" not in error

    # detect's .json says it read the file as one volume (ImageJ's slices): detect it again as frames.
    (tmp_path / "slices.json").write_text(json.dumps({"inputs": [{
        "file": "data/slices.tif", "axes": "ZYX", "axes_source": "metadata", "volumes": 1,
        "shape": [1, 20, 256, 256]}]}))
    assert main(args) == 2
    assert capsys.readouterr().err.strip().endswith(
        "so nothing moved and there is no MSD to measure; detect read data/slices.tif as one volume (axes ZYX, from "
        "its metadata); if its 20 z slices are the frames of a movie (saved as slices, not frames), detect it again "
        "with --axes TYX")
    assert not (tmp_path / "t.csv").exists()

    with pytest.raises(ParticleDetectError, match="^the tracks are all in one frame"):
        ensemble_msd(table.assign(particle=np.arange(len(table))))


@pytest.mark.usefixtures("project_home")
def test_the_tracks_panel_takes_the_image_files_calibration_and_says_so(make_napari_viewer, qtbot, tmp_path):
    from helpers import make_widget

    movie = tmp_path / "movie.tif"
    tifffile.imwrite(movie, np.zeros((4, 64, 64), np.uint16), imagej=True, resolution=(5, 5),
                     metadata={"axes": "TYX", "unit": "um", "finterval": 0.5, "tunit": "s"})
    viewer = make_napari_viewer()
    viewer.open(str(movie))
    assert tuple(viewer.layers[0].scale) == (1.0, 1.0, 1.0)  # napari's own reader: no calibration on the layer
    widget = make_widget(viewer, None)
    panel = widget.tracks
    assert (panel.mpp_spin.text(), panel.interval_spin.text(), panel.fps_spin.text()) == ("0.2", "0.5 s", "2")
    assert panel.calibration_note.text() == "from movie.tif's metadata: 0.2 µm/px, frames 0.5 s apart"
    points = widget.annotation.ensure_points_layer()
    for frame in range(4):  # each particle a pixel further every frame
        points.add([[frame, 10.0 + frame, 12.0], [frame, 40.0, 20.0 + frame], [frame, 30.0 - frame, 50.0]])
    panel.link()
    qtbot.waitUntil(lambda: not panel.running(), timeout=60_000)
    assert "MSD = 0.16 µm² at 1 s, exponent 2.00" in panel.status.text()  # it was px² at 1 frame
    np.testing.assert_allclose(panel.linked.msd["lagt"][:3], [0.5, 1.0, 1.5])
    panel.export(tmp_path / "movie_tracks.csv")
    record = json.loads((tmp_path / "movie_tracks.json").read_text(encoding="utf-8"))
    assert {k: record[k] for k in ("mpp", "mpp_from", "fps", "fps_from", "frame_interval_s")} == {
        "mpp": 0.2, "mpp_from": "movie.tif's metadata", "fps": 2.0, "fps_from": "movie.tif's metadata",
        "frame_interval_s": 0.5}

    # A value typed stays the user's, said as theirs.
    panel.interval_spin.setValue(2.0)
    panel.link()
    qtbot.waitUntil(lambda: not panel.running(), timeout=60_000)
    settings = panel.linked.settings
    assert (settings.seconds_per_frame, settings.fps_from, settings.mpp_from) == (
        2.0, "the panel's frame interval", "movie.tif's metadata")

    # Another image, of no file: in pixels, the interval typed kept (the image says nothing of its own).
    viewer.add_image(np.zeros((4, 64, 64), np.uint16), name="plain")
    widget.image_combo.setCurrentText("plain")
    assert (panel.mpp_spin.text(), panel.interval_spin.text(), panel.calibration_note.text()) == (
        "none (px)", "2 s", "")
    # Back to the file: its own calibration again.
    widget.image_combo.setCurrentText("movie")
    assert (panel.mpp_spin.text(), panel.interval_spin.text()) == ("0.2", "0.5 s")


def test_the_power_law_is_fitted_over_the_first_lags_and_says_which(tmp_path, capsys):
    """Fitted over every lag to --max-lag 100, pure diffusion on tracks of 10-60 frames came out 0.90 (the long
    lags rest on a few long tracks)."""
    rng = np.random.default_rng(2)
    tracks = drifting_walk(frames=60, particles=150, seed=2)
    tracks = tracks.assign(y=tracks["y"] - tracks["frame"] * DRIFT[0], x=tracks["x"] - tracks["frame"] * DRIFT[1])
    start, length = rng.integers(0, 50, 150), rng.integers(10, 60, 150)
    first, seen = start[tracks["particle"]], length[tracks["particle"]]
    tracks = tracks[(tracks["frame"] >= first) & (tracks["frame"] < first + seen)]
    tracks.drop(columns="particle").to_csv(tmp_path / "walk.csv", index=False)
    assert main(["link", str(tmp_path / "walk.csv"), "-o", str(tmp_path / "t.csv"), "--msd", str(tmp_path / "m.csv"),
                 "--search-range", "4", "--memory", "0"]) == 0
    line = capsys.readouterr().err.strip().splitlines()[-1]
    exponent = float(re.search(r"exponent ([0-9.]+)", line).group(1))
    assert 0.96 <= exponent <= 1.04, line
    assert line.endswith(", fitted over lags 1-10 frames)"), line
