"""trackpy's measurements at our centres, linking into tracks (drift, MSD), and time-left estimates."""

import numpy as np
import pandas as pd
import pytest
import trackpy

from napari_particle_detect.cli import main as cli
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.eta import Eta, RoundEta, eta_text
from napari_particle_detect.files.centre_csv import read_centres, write_centres
from napari_particle_detect.detection.measurements import MEASUREMENT_COLUMNS, FrameMeasurer, measure_table, trackpy_diameter
from napari_particle_detect.synthetic.spheres import SynthConfig, synthesize
from napari_particle_detect.synthetic.motion import diffusing_stack
from napari_particle_detect.files.tracks import (
    LinkOptions, compute_drift, ensemble_msd, fit_power_law, link_centres, subtract_drift, tracks_layer_data,
)


def test_measurements_are_trackpys_own_at_its_centres():
    image = synthesize(SynthConfig(shape=(128, 128), area_fraction=0.2, radius_range=(4, 6)), seed=3).image
    found = trackpy.locate(image, 11, engine="python")
    table = found[["y", "x"]].assign(frame=0)
    measured = measure_table(image, table, 11)
    assert list(measured.columns[-5:]) == list(MEASUREMENT_COLUMNS) and len(measured) == len(found)
    # locate characterises each feature on the pixel its refined centre ends on: ours is the nearest pixel
    # of the centre given, mostly the same pixel.
    same = np.isclose(measured["mass"], found["mass"], rtol=1e-6)
    assert same.mean() > 0.6
    for column in MEASUREMENT_COLUMNS:
        assert np.allclose(measured.loc[same, column], found.loc[same, column], rtol=1e-6, equal_nan=True)
    assert trackpy_diameter(10.0) == 11 and trackpy_diameter(11.2) == 13 and trackpy_diameter(1) == 3


def test_dark_particles_are_measured_inverted_and_edges_do_not_fail():
    sample = synthesize(SynthConfig(shape=(96, 96), area_fraction=0.2, radius_range=(4, 6), look="opaque"), seed=2)
    centres = np.vstack([sample.centres, [[0.2, 0.4], [95.0, 95.0]]])
    table = pd.DataFrame({"frame": 0, "y": centres[:, 0], "x": centres[:, 1]})
    measured = measure_table(sample.image, table, 10)
    values = measured[list(MEASUREMENT_COLUMNS)]
    assert np.isfinite(values[measured["mass"] > 0].to_numpy()).all()  # size is 0/0 where nothing stands out
    assert np.isfinite(measured[["mass", "raw_mass"]].to_numpy()).all()
    assert np.median(measured["mass"]) > 0  # inverted: dark discs have mass, as trackpy's invert=True gives
    measurer = FrameMeasurer(sample.image, 10)
    expected = measured[list(MEASUREMENT_COLUMNS)].to_numpy()
    np.testing.assert_allclose(measurer.measure(table).to_numpy(), expected)
    # Point by point: a subset, a moved point and a reordering give each point its own measurements.
    moved = table.iloc[::-1].copy()
    moved.iloc[0, moved.columns.get_loc("y")] += 3.0
    again = measurer.measure(moved).to_numpy()
    np.testing.assert_allclose(again[1:], expected[::-1][1:])
    np.testing.assert_allclose(again[:1], measure_table(sample.image, moved.iloc[:1], 10, measurer.invert)[list(MEASUREMENT_COLUMNS)]
                               .to_numpy())
    np.testing.assert_allclose(measurer.measure(table.iloc[:5]).to_numpy(), expected[:5])


@pytest.fixture(scope="module")
def movie():
    return diffusing_stack(SynthConfig(shape=(128, 128), area_fraction=0.12, radius_range=(4, 5)), n_frames=8,
                           step=0.7, drift=(0.8, -0.5), seed=2)


def test_linking_recovers_the_true_tracks_and_drift_leaves_free_diffusion(movie):
    _, truth = movie
    tracks = link_centres(truth.drop(columns="particle").sample(frac=1, random_state=0), LinkOptions(4.0, 1, 1))
    assert tracks["particle"].nunique() == truth["particle"].nunique()
    # every found track is one true particle
    assert (tracks.merge(truth, on=["frame", "y", "x"]).groupby("particle_x")["particle_y"].nunique() == 1).all()
    drift = compute_drift(tracks)
    np.testing.assert_allclose(drift.loc[7].to_numpy(), [7 * 0.8, 7 * -0.5], atol=0.6)
    corrected = ensemble_msd(subtract_drift(tracks, drift), 1.0, 1.0, 4)
    exponent, amplitude = fit_power_law(corrected)
    assert 0.8 < exponent < 1.2 and 0.7 < amplitude < 1.4  # 2 x 0.7^2 px^2 per frame
    raw_exponent, _ = fit_power_law(ensemble_msd(tracks, 1.0, 1.0, 4))
    assert raw_exponent > exponent + 0.2  # the drift makes the motion look ballistic
    layer = tracks_layer_data(tracks)
    assert layer.shape == (len(tracks), 4)
    assert len(link_centres(truth.drop(columns="particle"), LinkOptions(4.0, 1, 8))) == (
        truth.groupby("particle").filter(lambda g: len(g) >= 8).shape[0])
    with pytest.raises(ParticleDetectError, match="search range"):
        link_centres(truth, LinkOptions(0, 1, 1))


def test_cli_link_writes_particle_and_msd_and_detect_measures(tmp_path, movie):
    stack, truth = movie
    write_centres(truth.drop(columns="particle"), tmp_path / "centres.csv")
    assert cli.main(["-q", "link", str(tmp_path / "centres.csv"), "-o", str(tmp_path / "tracks.csv"),
                     "--search-range", "4", "--memory", "1", "--drift", "--msd", str(tmp_path / "msd.csv"),
                     "--mpp", "0.5", "--fps", "10"]) == 0
    tracks = pd.read_csv(tmp_path / "tracks.csv")
    assert {"frame", "y", "x", "particle", "y_corrected", "x_corrected"} <= set(tracks.columns)
    assert tracks["particle"].nunique() == truth["particle"].nunique()
    msd = pd.read_csv(tmp_path / "msd.csv")
    assert list(msd.columns) == ["lagt", "msd", "N"] and msd["lagt"].iloc[0] == pytest.approx(0.1)
    assert cli.main(["-q", "link", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "t2.csv")]) == 2
    assert not (tmp_path / "t2.csv").exists()

    import tifffile

    tifffile.imwrite(tmp_path / "movie.tif", stack[:2])
    assert cli.main(["-q", "detect", str(tmp_path / "movie.tif"), "-o", str(tmp_path / "m.csv"), "--measure",
                     "--diameter", "9", "--device", "cpu"]) == 0
    measured = read_centres(tmp_path / "m.csv")
    assert list(measured.columns[:4]) == ["frame", "y", "x", "score"]
    assert set(MEASUREMENT_COLUMNS) <= set(measured.columns) and measured["mass"].notna().all()


def test_time_left_from_the_rate_so_far():
    now = [0.0]
    eta = Eta(lambda: now[0])
    now[0] = 5.0
    assert eta.left(1, 10) is None  # the first frame carries the start-up
    now[0] = 7.0
    assert eta.left(2, 10) == pytest.approx(16.0)
    assert eta.left(10, 10) == 0.0
    assert eta_text(16.2) == "about 16 s left" and eta_text(400) == "about 7 min left" and eta_text(None) == eta_text(0) == ""

    clock = [0.0]
    round_eta = RoundEta(lambda: clock[0])
    for done, t in ((0, 0.0), (2, 4.0)):
        clock[0] = t
        assert round_eta.update({"phase": "scoring", "model": "parent", "done": done, "total": 2}) is None
    for step, t in ((1, 5.0), (11, 15.0)):
        clock[0] = t
        left = round_eta.update({"phase": "training", "step": step, "steps": 21, "loss": 0.1})
    assert left == pytest.approx(10 * 1.0 + 4.0)  # 10 steps at 1 s, then scoring the new round as long as the parent
    clock[0] = 26.0
    assert round_eta.update({"phase": "scoring", "model": "new model", "done": 1, "total": 2}) == pytest.approx(2.0)
    # A kinds round scores a second candidate next: read at the parent's pace until it has its own, then at
    # that (1 s an area here), not at a rate taken from the other candidate's count.
    clock[0] = 28.0
    round_eta.update({"phase": "scoring", "model": "new model", "done": 2, "total": 2})
    for done, t, expected in ((1, 29.0, 3.0), (2, 30.0, 2.0)):
        clock[0] = t
        left = round_eta.update({"phase": "scoring", "model": "adapted model", "done": done, "total": 4})
        assert left == pytest.approx(expected)


def _anisotropic_walk(z_step: float = 2.0) -> pd.DataFrame:
    """Isotropic free diffusion (0.5 px per axis per frame), stored in voxels whose z is ``z_step`` px long."""
    rng = np.random.default_rng(0)
    n, frames = 120, 12
    start = rng.uniform([10, 20, 20], [40, 200, 200], (n, 3))
    positions = start + np.cumsum(rng.normal(0, 0.5, (frames, n, 3)), axis=0)
    return pd.DataFrame({"frame": np.repeat(np.arange(frames), n), "z": positions[..., 0].ravel() / z_step,
                         "y": positions[..., 1].ravel(), "x": positions[..., 2].ravel(), "score": 1.0})


def test_a_volumes_tracks_are_linked_and_measured_in_units_of_the_y_voxel(tmp_path, capsys):
    walk = _anisotropic_walk()
    options = LinkOptions(3.0, 0, 1, voxel_size=(0.2, 0.1, 0.1))
    tracks = link_centres(walk, options)
    assert tracks["particle"].nunique() == 120 and list(tracks.columns) == ["frame", "z", "y", "x", "score", "particle"]
    msd = ensemble_msd(tracks, 1.0, 1.0, 3, voxel_size=options.voxel_size)
    assert msd["msd"].iloc[0] == pytest.approx(3 * 0.25, rel=0.1)  # in px^2, along every axis alike
    cubic = ensemble_msd(tracks, 1.0, 1.0, 3)
    assert cubic["msd"].iloc[0] < 0.85 * msd["msd"].iloc[0]  # z steps read as pixels: a quarter of z's motion lost

    # The CLI: --voxel-size, else the table's own z_um,y_um,x_um columns (as detect writes them).
    walk.assign(z_um=walk["z"] * 0.2, y_um=walk["y"] * 0.1, x_um=walk["x"] * 0.1).to_csv(tmp_path / "c.csv", index=False)
    walk.to_csv(tmp_path / "plain.csv", index=False)
    # c.csv's y_um column gives 0.1 µm per y voxel, so its MSD is in µm²; plain.csv's in (y voxel)².
    for table, extra, microns in (("c.csv", [], 0.1), ("plain.csv", ["--voxel-size", "2", "1", "1"], 1.0)):
        assert cli.main(["link", str(tmp_path / table), "-o", str(tmp_path / "t.csv"), "--search-range", "3",
                         "--memory", "0", "--msd", str(tmp_path / "m.csv"), "--max-lag", "3", "--overwrite",
                         *extra]) == 0
        assert pd.read_csv(tmp_path / "m.csv")["msd"].iloc[0] == pytest.approx(msd["msd"].iloc[0] * microns**2,
                                                                                rel=1e-3)
        assert "linked in 3D in units of the y voxel" in capsys.readouterr().err
    assert cli.main(["link", str(tmp_path / "plain.csv"), "-o", str(tmp_path / "t.csv"), "--overwrite"]) == 0
    assert "linked as if the voxels were cubes; give --voxel-size Z Y X" in capsys.readouterr().err
    walk.drop(columns="z").to_csv(tmp_path / "flat.csv", index=False)
    assert cli.main(["-q", "link", str(tmp_path / "flat.csv"), "-o", str(tmp_path / "f.csv"), "--voxel-size", "2", "1",
                     "1"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"particle-detect: error: {tmp_path / 'flat.csv'}: --voxel-size is for frame,z,y,x tables; this one has no "
        "z column"]
    assert not (tmp_path / "f.csv").exists()


def test_linking_and_its_measures_refuse_bad_tables_and_arguments_in_one_line(movie):
    _, truth = movie
    centres = truth.drop(columns="particle")
    with pytest.raises(ParticleDetectError, match="linking: the y column holds 1 missing"):
        link_centres(centres.assign(y=np.where(np.arange(len(centres)) == 3, np.nan, centres["y"])))
    with pytest.raises(ParticleDetectError, match="linking: the frame column holds 1 value that is not a whole"):
        link_centres(centres.assign(frame=np.where(np.arange(len(centres)) == 0, 0.5, centres["frame"])))
    # Frames as text, and trackpy's own way of giving the options.
    expected = link_centres(centres, LinkOptions(4.0, 1, 1))
    as_text = link_centres(centres.assign(frame=centres["frame"].astype(str)), LinkOptions(4.0, 1, 1))
    pd.testing.assert_frame_equal(as_text, expected)
    pd.testing.assert_frame_equal(link_centres(centres, search_range=4.0, memory=1), expected)
    pd.testing.assert_frame_equal(link_centres(centres, 4.0, memory=1), expected)
    pd.testing.assert_frame_equal(link_centres(centres, LinkOptions(9.0, 1, 1), search_range=4.0), expected)
    with pytest.raises(TypeError, match="search_range"):
        link_centres(centres, "4")
    for measure in (compute_drift, ensemble_msd):
        with pytest.raises(ParticleDetectError, match="no particle column; link the centres first with link_centres"):
            measure(centres)
    drift = compute_drift(expected)
    with pytest.raises(ParticleDetectError, match=r"the drift has no row for frames 2, 3, 4, 5, 6, 7 of the tracks"):
        subtract_drift(expected, drift.iloc[:2])
    with pytest.raises(TypeError, match="microns_per_pixel must be a number, got None"):
        ensemble_msd(expected, None)
    with pytest.raises(TypeError, match="max_lag must be a number, got 'a'"):
        ensemble_msd(expected, 1.0, 1.0, "a")
    with pytest.raises(TypeError, match="memory must be a number"):
        link_centres(centres, LinkOptions(4.0, None, 1))


def test_write_centres_writes_only_what_read_centres_reads(tmp_path):
    table = pd.DataFrame({"frame": [0, 1], "y": [1.0, 2.0], "x": [3.0, 4.0], "score": [0.9, 0.8]})
    path = tmp_path / "c.csv"
    write_centres(table, path)
    before = path.read_text()
    for bad, says in [(table.drop(columns="y"), "needs columns y and x \\(got frame, x, score\\)"),
                      (table.assign(x=[1.0, np.nan]), "y/x columns contain non-numeric or missing values"),
                      (table.assign(frame=[0, -1]), "frame numbers must be whole numbers from 0")]:
        with pytest.raises(ParticleDetectError, match=f"c.csv \\(not written\\): .*{says}"):
            write_centres(bad, path)
        assert path.read_text() == before  # the file as it was
    with pytest.raises(TypeError, match="write_centres: table must be a pandas DataFrame"):
        write_centres(table[["y", "x"]].to_numpy(), tmp_path / "d.csv")
    assert not (tmp_path / "d.csv").exists()
    # Tables that are no centres (an MSD, per-frame counts) are written as they are.
    write_centres(pd.DataFrame({"lagt": [0.1], "msd": [0.2], "N": [3.0]}), tmp_path / "msd.csv")
    write_centres(pd.DataFrame({"frame": [0], "count": [2], "reviewed": [True]}), tmp_path / "counts.csv")
    pd.testing.assert_frame_equal(read_centres(path), table)


@pytest.mark.usefixtures("project_home")
def test_tracks_exported_from_the_dock_open_over_their_scaled_image_again(make_napari_viewer, qtbot, tmp_path):
    """A tracks CSV from *Export tracks…* of an image with a pixel size (0.3509 µm/px, as the bulk-water
    sample) carries y_um,x_um as the centres export does, and the reader draws its Points and Tracks over
    the image, where the dock drew them, not 2.85x off."""
    from helpers import make_widget
    from napari_particle_detect._napari.reader import get_reader

    viewer = make_napari_viewer()
    image = viewer.add_image(np.zeros((4, 64, 64), np.uint16), name="water", scale=(1.0, 0.3509, 0.3509),
                             translate=(0.0, 2.0, -1.5), units=("pixel", "um", "um"))
    widget = make_widget(viewer, None)
    points = widget.annotation.ensure_points_layer()
    for frame in range(4):  # three particles clicked by hand, each a pixel further every frame
        points.add([[frame, 10.0 + frame, 12.0], [frame, 40.0, 20.0 + frame], [frame, 30.0 - frame, 50.0 - frame]])
    widget.tracks.link()
    qtbot.waitUntil(lambda: not widget.tracks.running(), timeout=60_000)
    shown = viewer.layers["water tracks"]

    written = widget.tracks.export(tmp_path / "water_tracks.csv")
    saved = pd.read_csv(written)
    assert list(saved.columns[:7]) == ["frame", "y", "x", "score", "source", "y_um", "x_um"]
    np.testing.assert_allclose(saved["y_um"], saved["y"] * 0.3509 + 2.0, atol=1e-3)
    np.testing.assert_allclose(saved["x_um"], saved["x"] * 0.3509 - 1.5, atol=1e-3)

    (points_data, points_kwargs, _), (tracks_data, tracks_kwargs, kind) = get_reader(str(written))(str(written))
    assert kind == "tracks" and "y_um" not in points_kwargs["features"]  # the layer's scale holds them
    for data, kwargs in ((points_data, points_kwargs), (tracks_data, tracks_kwargs)):
        # Read back from 3-decimal columns: the pixel size to 1e-4 of itself, the offset to 1e-3 µm.
        np.testing.assert_allclose(kwargs["scale"][-2:], image.scale[-2:], rtol=1e-4)
        np.testing.assert_allclose(kwargs["translate"][-2:], image.translate[-2:], atol=1e-3)
    reopened = viewer.open(str(written), plugin="napari-particle-detect")[1]
    world = lambda layer: layer.data[:, -2:] * layer.scale[-2:] + layer.translate[-2:]  # noqa: E731
    np.testing.assert_allclose(world(reopened), world(shown), atol=1e-3)  # over the image, as the dock drew them


def test_a_volumes_tracks_csv_opens_with_its_tracks_layer_and_columns(make_napari_viewer, tmp_path):
    """``particle-detect link`` on a frame,z,y,x table: its tracks CSV opens as the volume's points, with
    particle and the drift-corrected positions as features, and a Tracks layer of (particle, frame, z, y, x),
    in voxels as the points are."""
    from napari_particle_detect._napari.reader import get_reader

    walk = _anisotropic_walk()[lambda t: t["frame"] < 4]
    walk.assign(z_um=walk["z"] * 0.2, y_um=walk["y"] * 0.1, x_um=walk["x"] * 0.1).to_csv(tmp_path / "c.csv",
                                                                                       index=False)
    path = tmp_path / "volume_tracks.csv"
    assert cli.main(["-q", "link", str(tmp_path / "c.csv"), "-o", str(path), "--search-range", "3", "--memory",
                     "0", "--drift"]) == 0
    saved = pd.read_csv(path)

    layers = get_reader(str(path))(str(path))
    assert [kind for _, _, kind in layers] == ["points", "tracks"]
    (points, points_kwargs, _), (tracks, tracks_kwargs, _) = layers
    features = points_kwargs["features"]
    assert {"particle", "z_corrected", "y_corrected", "x_corrected"} <= set(features.columns)
    assert not {"z_um", "y_um", "x_um"} & set(features.columns)  # the voxel size times the positions: no news
    np.testing.assert_array_equal(features["particle"], saved["particle"])
    expected = saved.sort_values(["particle", "frame"], kind="stable")[["particle", "frame", "z", "y", "x"]]
    np.testing.assert_allclose(tracks, expected.to_numpy(float))
    assert tracks_kwargs["name"] == "volume tracks"
    # In voxels as the points, placed in µm by the voxel size their *_um columns give (frame first).
    assert tuple(tracks_kwargs["scale"]) == tuple(points_kwargs["scale"])
    assert tuple(points_kwargs["scale"]) == pytest.approx((1.0, 0.2, 0.1, 0.1))

    viewer = make_napari_viewer()
    opened = viewer.open(str(path), plugin="napari-particle-detect")
    assert [type(layer).__name__ for layer in opened] == ["Points", "Tracks"]
    assert opened[0].data.shape[1] == 4 and opened[1].data.shape[1] == 5
    assert len(np.unique(opened[1].data[:, 0])) == saved["particle"].nunique() == 120
