"""A mosaic's gaps (NaN or infinite pixels) as detection counts them: the spike check reads only the frame's own
pixels, as the percentile range does; a GPU run builds the gaps' mask on its device to the host's pixel; and the
.json record (and the one gap line) says how many centres the gaps cost, dropped or left without measurements."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile
import torch
from scipy import ndimage

from napari_particle_detect.detection import device_pipeline as on_device
from napari_particle_detect.detection.measurements import MEASUREMENT_COLUMNS, trackpy_diameter
from napari_particle_detect.detection.preprocessing import filled_gaps
from napari_particle_detect.detection.steps import DeviceSteps, HostSteps, own_pixels
from napari_particle_detect.files.file_detection import DetectOptions, detect_file
from napari_particle_detect.synthetic.spheres import SynthConfig, synthesize

CPU = torch.device("cpu")
DIAMETER = 13.0


def gapped(frame: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """``frame`` in float32 with its ``missing`` pixels set to NaN."""
    return np.where(missing, np.nan, frame).astype(np.float32)


# ---- the spike check --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", [HostSteps, DeviceSteps], ids=["host", "device"])
def test_a_large_gap_leaves_the_spike_check_as_the_frames_own_pixels_decide_it(backend):
    # 30 dead pixels decide the 1st percentile of the 2,500 pixels a tile holds, not of the 10,000 its gap's fill
    # made of it: counted with the fill, they were no spike, and squeezed the tile's range.
    frame = np.random.default_rng(0).normal(150, 10, (100, 100)).astype(np.float32)
    frame[5:8, 5:15] = 0.0
    missing = np.ones(frame.shape, bool)
    missing[:50, :50] = False
    filled = filled_gaps(gapped(frame, missing), missing, 16)
    alone = backend(CPU)
    alone.prepare([frame[:50, :50].copy()], 1.0, False, owned=True)
    assert alone.spikes.frames == 1  # the tile without the gap: a spike
    steps = backend(CPU)
    prepared, _ = steps.prepare([filled], 1.0, False, owned=True, missing=missing)
    assert steps.spikes.frames == 1 and steps.spikes.first == alone.spikes.first
    prepared = prepared.numpy() if isinstance(prepared, torch.Tensor) else prepared
    assert abs(np.percentile(prepared[~missing], 1.0)) < 0.01  # the tile's own range, the dead pixels at its end


# ---- the gaps' mask on the device -------------------------------------------------------------------------------
def masks(shape: tuple[int, int]) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    stripes = np.zeros(shape, bool)
    stripes[:, 20:27] = stripes[-9:, :] = True
    edge = np.zeros(shape, bool)
    edge[0, 0] = edge[:, -1] = True
    return [stripes, edge, rng.random(shape) > 0.98]


@pytest.mark.parametrize("scale", [1.0, 0.97, 0.93, 0.6, 0.37, 1.3, 2.5])
def test_the_device_builds_the_gaps_mask_the_host_builds_to_the_pixel(scale):
    for missing in masks((61, 74)):
        expected = own_pixels(missing, scale)
        found = on_device.own_pixels(torch.from_numpy(missing), scale)
        assert found.dtype == torch.bool and np.array_equal(found.numpy(), expected)


@pytest.mark.parametrize("scale", [1.0, 0.6, 1.3])
def test_device_steps_prepare_a_gapped_frame_as_host_steps_do(scale):
    sample = synthesize(SynthConfig(shape=(96, 112), radius_range=(5, 8), area_fraction=0.3), seed=2)
    missing = masks(sample.image.shape)[0]
    filled = filled_gaps(gapped(sample.image, missing), missing, 16)
    on_host, host_factors = HostSteps(CPU).prepare([filled.copy()], scale, False, owned=True, missing=missing)
    on_tensor, factors = DeviceSteps(CPU).prepare([filled.copy()], scale, False, owned=True, missing=missing)
    assert np.array_equal(factors, host_factors)
    assert np.abs(on_tensor.numpy() - on_host).max() < 1e-5


# ---- the record and the gap line ----------------------------------------------------------------------------------
def gapped_stack(path: Path, frames: int = 3) -> tuple[Path, np.ndarray]:
    """A stack of beads with a stitcher's gaps (a stripe and a band) in every frame, written at ``path``."""
    missing = np.zeros((128, 128), bool)
    missing[:, 56:64] = missing[-16:, :] = True
    config = SynthConfig(shape=missing.shape, radius_range=(5, 8), area_fraction=0.35)
    stack = np.stack([gapped(synthesize(config, seed=30 + i).image, missing) for i in range(frames)])
    tifffile.imwrite(path, stack)
    return path, missing


def gap_line(caplog) -> str:
    (line,) = [r.getMessage() for r in caplog.records if "NaN or infinite" in r.getMessage()]
    return line


def test_the_record_and_the_gap_line_count_the_centres_dropped_and_left_unmeasured_beside_gaps(tmp_path, caplog):
    path, missing = gapped_stack(tmp_path / "mosaic.tif")
    options = DetectOptions(diameter=DIAMETER, device="cpu", measure=True)
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        detect_file(path, options, output=tmp_path / "out.csv")
    record = json.loads((tmp_path / "out.json").read_text())["inputs"][0]
    found = pd.read_csv(tmp_path / "out.csv")
    unmeasured = found[list(MEASUREMENT_COLUMNS)].isna().all(axis=1).to_numpy()
    # The rows left without numbers are those whose circle (trackpy's, at the diameter given) reaches a gap.
    where = found[["y", "x"]].round().astype(int).clip(0, 127).to_numpy()
    reaches = ndimage.distance_transform_edt(~missing)[tuple(where.T)] <= trackpy_diameter(DIAMETER) // 2
    np.testing.assert_array_equal(unmeasured, reaches)
    dropped, left = record["centres_dropped_at_gaps"], record["centres_unmeasured_at_gaps"]
    assert dropped > 0 and left == unmeasured.sum() > 0 and record["centres"] == len(found)
    assert gap_line(caplog).endswith(f"radius ({dropped} dropped; {left} kept within a whole radius, where trackpy's "
                                     "measurements are NaN)")


def test_without_measure_the_gap_line_speaks_of_no_measurements(tmp_path, caplog):
    # It said "N kept within a whole radius, where trackpy's measurements are NaN" of runs measuring nothing (the
    # library's detect, the dock, detect without --measure).
    path, _ = gapped_stack(tmp_path / "mosaic.tif", frames=1)
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        detect_file(path, DetectOptions(diameter=DIAMETER, device="cpu"), output=tmp_path / "out.csv")
    record = json.loads((tmp_path / "out.json").read_text())["inputs"][0]
    assert "measurements" not in gap_line(caplog) and "centres_unmeasured_at_gaps" not in record
    assert gap_line(caplog).endswith(f"radius ({record['centres_dropped_at_gaps']} dropped)")


def test_a_run_gone_on_after_a_stop_records_the_centres_the_frames_done_before_dropped(tmp_path):
    path, _ = gapped_stack(tmp_path / "mosaic.tif")
    options = DetectOptions(diameter=DIAMETER, device="cpu")
    whole = detect_file(path, options).record

    def stop_after_two(done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        detect_file(path, options, output=tmp_path / "out.csv", progress=stop_after_two)
    (entry,) = json.loads((tmp_path / "out.json").read_text())["resume"]
    assert sum(entry["centres_dropped_at_gaps"].values()) > 0  # the frames done had dropped some
    done = []
    gone_on = detect_file(path, options, output=tmp_path / "out.csv", progress=lambda n, total: done.append(n))
    assert done == [3]  # only the last frame detected again
    assert gone_on.record["centres_dropped_at_gaps"] == whole["centres_dropped_at_gaps"] > 0
    assert "centres_unmeasured_at_gaps" not in whole  # counted where measured
