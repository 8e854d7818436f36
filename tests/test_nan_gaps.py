"""NaN and infinite pixels, as a stitcher leaves in a mosaic's gaps, are missing data: detection reads around
them instead of throwing the frame (or the image, or the volume) away."""

import json
import logging

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from napari_particle_detect.cli.main import main
from napari_particle_detect.detection.prediction import detect
from napari_particle_detect.detection.volume_detection import detect_volumes
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.kinds.evaluation import score
from napari_particle_detect.kinds.evaluation3d import score_nd
from napari_particle_detect.models import default_model_path, load_model
from napari_particle_detect.synthetic.spheres import SynthConfig, synthesize
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

from helpers import make_widget, run_detect

BEADS = SynthConfig(shape=(160, 160), radius_range=(5, 8), area_fraction=0.35)
DIAMETER = 13.0
# Centres closer to a gap than this share of the particles' radius belong to particles the gap cuts.
CUT = 0.5


@pytest.fixture(scope="module")
def model():
    return load_model(default_model_path("unet"))


def frames(seeds) -> tuple[np.ndarray, list[np.ndarray]]:
    """A float32 stack of beads (one frame per seed) and each frame's true centres."""
    samples = [synthesize(BEADS, seed=seed) for seed in seeds]
    return np.stack([s.image for s in samples]).astype(np.float32), [s.centres for s in samples]


def clear_of_gaps(centres: np.ndarray, missing: np.ndarray, radii: tuple[float, ...]) -> np.ndarray:
    """Which ``centres`` lie farther than CUT radii from every missing pixel (distances in radii per axis)."""
    distance = ndimage.distance_transform_edt(~missing, sampling=[1 / r for r in radii])
    where = np.clip(np.rint(centres).astype(int), 0, np.array(missing.shape) - 1)
    return distance[tuple(where.T)] > CUT


def gap_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "NaN or infinite" in r.getMessage()]


def test_a_few_nan_pixels_keep_the_frames_centres(model, caplog):
    # Four NaN pixels made frame 1 blank: its particles lost (about 200 in the user's 256 px frame).
    stack, truth = frames([21, 22, 23])
    whole = detect(stack, model, "cpu", diameter=DIAMETER)
    damaged = stack.copy()
    damaged[1, 40:42, 50:52] = np.nan
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        table = detect(damaged, model, "cpu", name="mosaic.tif")  # the size estimated from the damaged frame too
    found = table[table["frame"] == 1][["y", "x"]].to_numpy()
    assert score(found, truth[1]).f1 > 0.9
    assert score(found, truth[1]).f1 >= score(whole[whole["frame"] == 1][["y", "x"]].to_numpy(), truth[1]).f1 - 0.02
    assert gap_lines(caplog) == [
        "mosaic.tif: 4 NaN or infinite pixels in 1 frame, 0.0156 % of their pixels (a mosaic's gaps?), read as "
        "missing: detected around them, and no centre kept within half a particle radius"]


def test_nan_stripes_detect_outside_them_with_no_centre_inside(model):
    # One image with NaN gaps was refused whole ("image contains NaN or infinite values"); here under a ramp of
    # light, where one level for the whole gap would read as a bright or a dark band.
    sample = synthesize(SynthConfig(shape=(192, 192), radius_range=(5, 8), area_fraction=0.3,
                                    background_gradient=2.0), seed=5)
    missing = np.zeros(sample.image.shape, bool)
    missing[:, 90:104] = True
    missing[160:, :] = True
    image = np.where(missing, np.nan, sample.image.astype(np.float32))
    table = detect(image, model, "cpu")
    centres = table[["y", "x"]].to_numpy()
    radius = table.attrs["diameter"] / 2
    assert 11 < table.attrs["diameter"] < 15  # estimated around the gaps
    assert clear_of_gaps(centres, missing, (radius, radius)).all()  # none in a gap, nor at its edge
    outside = sample.centres[clear_of_gaps(sample.centres, missing, (radius, radius))]
    assert score(centres, outside).f1 > 0.93
    # The same gaps filled with 0 (what a user did by hand) find no more.
    zeros = detect(np.where(missing, 0, image), model, "cpu", diameter=table.attrs["diameter"])
    kept = zeros[["y", "x"]].to_numpy()
    assert score(centres, outside).f1 >= score(kept[clear_of_gaps(kept, missing, (radius, radius))], outside).f1 - 0.01


@pytest.mark.usefixtures("project_home")
def test_the_dock_detects_around_nan_gaps(make_napari_viewer, qtbot):
    # The dock said "image contains NaN or infinite values" and drew nothing.
    sample = synthesize(BEADS, seed=7)
    missing = np.zeros(sample.image.shape, bool)
    missing[:, 70:80] = True
    viewer = make_napari_viewer()
    viewer.add_image(np.where(missing, np.nan, sample.image.astype(np.float32)), name="mosaic")
    widget = make_widget(viewer, None)
    run_detect(widget, qtbot, scope=0)
    centres = viewer.layers["mosaic centres"].data[:, -2:]
    radius = DIAMETER / 2
    assert clear_of_gaps(centres, missing, (radius, radius)).all()
    assert score(centres, sample.centres[clear_of_gaps(sample.centres, missing, (radius, radius))]).f1 > 0.9


def test_gaps_are_filled_with_the_local_background_not_one_level():
    from napari_particle_detect.detection.preprocessing import filled_gaps

    ramp = np.add.outer(np.zeros(128), np.linspace(0.0, 10.0, 256)).astype(np.float32)
    missing = np.zeros(ramp.shape, bool)
    missing[:, 20:28] = missing[:, 220:228] = True
    filled = filled_gaps(np.where(missing, np.nan, ramp), missing, 64)
    assert np.all(np.isfinite(filled))
    assert np.abs(filled - ramp)[missing].max() < 1.0  # the frame's median, 5, is 4 away at either gap


def test_an_all_nan_frame_is_blank_and_recorded_as_blank(tmp_path, capsys):
    stack, _ = frames([31, 32, 33])
    stack[1] = np.nan
    stack[2, :, 70:80] = np.nan  # a gap alone: detected around
    path = tmp_path / "mosaic.tif"
    tifffile.imwrite(path, stack)
    code = main(["-q", "detect", str(path), "-o", str(tmp_path / "out.csv"), "--diameter", str(DIAMETER),
                 "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 0, err
    record = json.loads((tmp_path / "out.json").read_text())["inputs"][0]
    assert record["blank_frames"] == [1] and record["frames_without_centres"] == [1]
    assert f"{path} frame 1: every pixel is NaN or infinite (a blank frame): no centres" in err
    assert f"{path}: 1600 NaN or infinite pixels in 1 frame, 6.25 % of their pixels" in err
    # One image all NaN is refused as a constant one is, in one line naming it.
    with pytest.raises(ParticleDetectError, match=r"^one\.tif: every pixel is NaN or infinite; nothing to "
                                                  r"detect$"):
        detect(stack[1], diameter=DIAMETER, device="cpu", name="one.tif")
    almost = stack[0].copy()
    almost[:, 1:] = np.inf
    with pytest.raises(ParticleDetectError, match=r"99.4 % of its pixels are NaN or infinite; nothing to detect$"):
        detect(almost, diameter=DIAMETER, device="cpu")


def test_a_volume_with_nan_voxels_detects(caplog):
    # "volume contains NaN or infinite voxels" refused the whole volume.
    sample = synthesize_volume(VolumeConfig(shape=(16, 64, 64), volume_fraction=0.3, diameter=10.0, z_step=2.0),
                               seed=4)
    missing = np.zeros(sample.image.shape, bool)
    missing[:, :, 30:36] = True
    volume = np.where(missing, np.nan, sample.image.astype(np.float32))
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        table = detect_volumes(volume, device="cpu", name="vol")
    centres = table[["z", "y", "x"]].to_numpy()
    radii = tuple(d / 2 for d in table.attrs["diameter"])
    assert len(centres) and clear_of_gaps(centres, missing, radii).all()
    outside = sample.centres[clear_of_gaps(sample.centres, missing, radii)]
    assert score_nd(centres, outside, 3.0).f1 > 0.85
    assert gap_lines(caplog) == [
        "vol: 6144 NaN or infinite voxels in 1 volume, 9.38 % of their voxels (a mosaic's gaps?), read as "
        "missing: detected around them, and no centre kept within half a particle radius"]
