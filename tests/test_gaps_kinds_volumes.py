"""A mosaic's gaps (NaN or infinite pixels) beyond 2D spheres: rods, chains and volumes read their spike check and
percentile range from the image's own pixels, not from the gaps' fill, so half an image missing leaves the other
half's network input as that half alone gives it; and the 3D dock says a series' gaps once a Detect press."""

from __future__ import annotations

import logging
from types import ModuleType

import numpy as np
import pytest
from helpers import notification_count, notifications_since

from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.detection import kinds_prediction, volume_inference
from napari_particle_detect.detection.kinds_prediction import detect_kind
from napari_particle_detect.detection.preprocessing import PERCENTILES
from napari_particle_detect.detection.steps import own_pixels
from napari_particle_detect.detection.volume_detection import VolumeOptions, detect_volume
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains
from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

# The shipped 3D model's working diameter (its card's canonical_diameter): volumes of particles this many voxels
# across reach the network as they come, others resampled to it.
WORKING_DIAMETER = 6.0


def with_hot_line(image: np.ndarray, pixels: int) -> np.ndarray:
    """``image`` in float32 with a line of ``pixels`` near its corner saturated far above the rest: a spike of the
    image alone (more pixels than its top percentile's share), not of the image and as many fill pixels beside it."""
    hot = np.array(image, dtype=np.float32)
    start = 2 * hot.shape[-1] + 2
    hot.reshape(-1)[start : start + pixels] = hot.max() + 2 * (hot.max() - hot.min())
    return hot


def half_missing(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``image`` beside as many NaN pixels along its last axis (a mosaic's empty tile), and their mask."""
    gapped = np.concatenate([image, np.full(image.shape, np.nan, np.float32)], axis=-1)
    return gapped, np.isnan(gapped)


def network_inputs(monkeypatch, module: ModuleType, name: str) -> list[np.ndarray]:
    """The images detection hands its network through ``module.name``, recorded as they are passed on to it."""
    seen = []
    handed = getattr(module, name)

    def recorded(network, image, *args, **kwargs):
        seen.append(np.array(image))
        return handed(network, image, *args, **kwargs)

    monkeypatch.setattr(module, name, recorded)
    return seen


@pytest.mark.parametrize("kind, diameter, scale", [("rods", None, 1.0), ("chains", 24.0, 0.5)])
def test_half_a_frame_missing_leaves_the_other_halfs_rods_and_chains_network_input_as_it_alone_gives_it(
        kind, diameter, scale, monkeypatch):
    # The fill, half the pixels at the background's level, pulled the range's top down 4-10 % and hid the hot line
    # from the spike check: the network read the particles dimmer, and the line at over 3 times their brightest.
    if kind == "rods":
        image = synthesize_rods(benchmark_rod_config("fluorescent", 0.15, shape=(96, 96)), seed=123).image
    else:  # 24 px beads: resampled to half their size, with the spikes left out before
        config = benchmark_chain_config("fluorescent", 0.25, shape=(96, 96), radius=12)
        image = synthesize_chains(config, seed=124).image
    image = with_hot_line(image, 28)
    gapped, missing = half_missing(image)
    seen = network_inputs(monkeypatch, kinds_prediction, "predict_maps")
    found = detect_kind(image, kind, device="cpu", diameter=diameter)
    assert found.attrs.get("scale", 1.0) == scale
    detect_kind(gapped, kind, device="cpu", diameter=diameter)
    alone, beside_gap = seen
    # The pixels the fill reached in resampling (none at scale 1) are the gap's; the others are the same pixels.
    own = own_pixels(missing, scale)[:, : alone.shape[1]]
    assert own.mean() > 0.9
    np.testing.assert_allclose(beside_gap[:, : alone.shape[1]][own], alone[own], atol=2e-3)


@pytest.mark.parametrize("diameter", [WORKING_DIAMETER, 2 * WORKING_DIAMETER])
def test_half_a_volume_missing_leaves_the_other_halfs_network_input_as_it_alone_gives_it(diameter, monkeypatch):
    # The fill pulled the top of the other half's range down 2-4 % and hid the hot line from the spike check: the
    # network read the line at about 4 times the particles' brightest.
    config = VolumeConfig(shape=(12, 40, 40), volume_fraction=0.3, diameter=diameter, z_step=1.0)
    volume = with_hot_line(synthesize_volume(config, seed=5).image, 50)
    gapped, missing = half_missing(volume)
    seen = network_inputs(monkeypatch, volume_inference, "predict_heatmap3d")
    options = VolumeOptions(diameter=(diameter,) * 3, device="cpu")
    detect_volume(volume, None, options)
    detect_volume(gapped, None, options)
    alone, beside_gap = seen
    if diameter == WORKING_DIAMETER:  # not resampled: the same voxels, given the same values
        np.testing.assert_array_equal(beside_gap[..., : alone.shape[-1]], alone)
    from napari_particle_detect.detection.volume_resampling import own_voxels  # here: the fix brought it

    # The volume's own voxels' range maps to 0..1, as a volume's without gaps does (the hot line a spike of theirs).
    own = own_voxels(missing, np.full(3, WORKING_DIAMETER / diameter))
    assert own.mean() > 0.45
    np.testing.assert_allclose(np.percentile(beside_gap[own], PERCENTILES), [0.0, 1.0], atol=1e-3)


@pytest.mark.usefixtures("project_home")
def test_the_volume_dock_says_a_series_gaps_once_a_detect_press(make_napari_viewer, qtbot, caplog):
    # Each volume of the series said its gaps in a line of its own, and only in the terminal.
    config = VolumeConfig(shape=(12, 40, 40), volume_fraction=0.3, diameter=10.0, z_step=2.0)
    series = np.stack([half_missing(synthesize_volume(config, seed=seed).image)[0] for seed in (1, 2, 3)])
    viewer = make_napari_viewer()
    viewer.add_image(series, name="mosaic")
    dock = VolumeDetectWidget(viewer)
    dock.diameter.setValue(10.0)
    before = notification_count()
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        dock.button.click()
        qtbot.waitUntil(lambda: "mosaic 3D centres" in viewer.layers and dock.button.isEnabled(), timeout=60_000)
    line = (f"mosaic: {series.size // 2} NaN or infinite voxels in 3 volumes, 50 % of their voxels (a mosaic's "
            "gaps?), read as missing: detected around them, and no centre kept within half a particle radius")
    assert [r.getMessage() for r in caplog.records if "NaN or infinite" in r.getMessage()] == [line]
    assert [m for m in notifications_since(before) if "NaN or infinite" in m] == [line]
