"""The --overlay picture's grey range on a frame with a large NaN patch (a mosaic's gap): read from the frame's
own pixels, so the particles and their background look as they do in the same frame without the gap."""

import numpy as np
from PIL import Image

from napari_particle_detect.files.overlay import save_overlay


def _sparse_frame() -> np.ndarray:
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:200, 0:200]
    frame = np.full((200, 200), 100.0)
    for cy, cx in rng.uniform(0, 200, (8, 2)):
        frame += 80 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 8)
    return (frame + rng.normal(0, 3, frame.shape)).astype(np.float32)


def _greys(frame: np.ndarray, path) -> np.ndarray:
    return np.asarray(Image.open(save_overlay(frame, np.empty((0, 2)), path)).convert("L")).astype(float)


def test_a_large_nan_patch_leaves_the_overlays_grey_range_as_without_it(tmp_path):
    whole = _sparse_frame()
    gapped = whole.copy()
    gapped[:120] = np.nan  # 60 % of the frame

    # The same pixels without the gap: the frame's rows below it (1.5 px of picture a pixel).
    plain, with_gap = _greys(whole[120:], tmp_path / "rows.png"), _greys(gapped, tmp_path / "gap.png")[180:]

    assert abs(np.median(with_gap) - np.median(plain)) < 5, "the background is as grey as without the gap"
    assert abs((with_gap >= 250).mean() - (plain >= 250).mean()) < 0.002, "no more particles drawn saturated"
