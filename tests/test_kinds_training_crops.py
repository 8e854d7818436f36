"""kinds_training's crops of annotated frames (train --kind DATA, recipes with data) read what detection feeds the
network there: the frame prepared whole (an uneven background flattened over it, its percentiles scaling it),
then cropped. Prepared after cropping, a crop was never flattened and was scaled by its own percentiles."""

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.detection.kinds_prediction import network_frame
from napari_particle_detect.detection.preprocessing import FrameRecord, check_frame
from napari_particle_detect.kinds.registry import get_kind
from napari_particle_detect.learning import kinds_training
from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

from test_kinds_detect_audit import under_ramp


def whole_frame_input(frame: np.ndarray, flattened: int) -> np.ndarray:
    """What detection feeds the rods network for ``frame``, which it flattens ``flattened`` times (0 or 1)."""
    record = FrameRecord()
    prepared = network_frame(check_frame(frame), 1.0, False, record)[0]
    assert record.frames == flattened
    return prepared


def annotated_crops(frame: np.ndarray, table: pd.DataFrame, crop: int, count: int,
                    monkeypatch) -> list[tuple[np.ndarray, tuple[int, int]]]:
    """(network input, (y0, x0) of its window in ``frame``) of ``count`` crops of a batch drawn from the one
    annotated example alone, unaugmented (flips and intensity changes would hide the window)."""
    cut = kinds_training._annotated_crop
    corners = []

    def cut_and_note_corner(example, size, rng):
        image, shifted = cut(example, size, rng)
        corners.append(tuple(int(round(a - b)) for a, b in zip(table.loc[0, ["y", "x"]], shifted.loc[0, ["y", "x"]])))
        return image, shifted

    monkeypatch.setattr(kinds_training, "_annotated_crop", cut_and_note_corner)
    monkeypatch.setattr(kinds_training, "_augment", lambda image, points, rng: (image, points))
    examples = kinds_training.prepared_examples([(frame, table)])
    images, _, _ = kinds_training.batch(get_kind("rods"), np.random.default_rng(3), count, crop, 0, examples,
                                        synthetic_fraction=0.0)
    return list(zip(images[:, 0], corners))


@pytest.mark.parametrize("crop", [64, 128])
@pytest.mark.parametrize("ramp, flattened", [(8.5, 1), (0.0, 0)], ids=["under a ramp", "evenly lit"])
def test_an_annotated_crop_is_the_window_of_the_frame_detection_prepares(monkeypatch, crop, ramp, flattened):
    # Before, a crop's input differed from detection's there by up to 0.74 (64 px) and 0.36 (128 px) under the
    # ramp, never flattened; evenly lit by up to 0.58 and 0.33, scaled by its own percentiles, not its frame's.
    sample = synthesize_rods(benchmark_rod_config("fluorescent", 0.15, shape=(256, 256)), seed=400_003)
    frame = under_ramp(sample.image, ramp)
    detected = whole_frame_input(frame, flattened)
    crops = annotated_crops(frame, sample.table, crop, 4, monkeypatch)
    assert len({corner for _, corner in crops}) > 1  # crops from several places of the frame
    for image, (y0, x0) in crops:
        np.testing.assert_array_equal(image, detected[y0 : y0 + crop, x0 : x0 + crop])
