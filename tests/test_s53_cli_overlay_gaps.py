"""The --overlay picture of a frame with NaN pixels (a mosaic's gaps, which detection reads as missing)."""

import numpy as np
from PIL import Image

from napari_particle_detect.files.overlay import save_overlay


def _frame_with_gap() -> np.ndarray:
    yy, xx = np.mgrid[0:64, 0:64]
    frame = (100 + 50 * np.exp(-((yy - 40) ** 2 + (xx - 40) ** 2) / 20.0) + xx / 8).astype(np.float32)
    frame[10:20, 10:20] = np.nan
    return frame


def test_overlay_of_a_frame_with_nan_pixels_shows_the_image_and_marks_the_gap(tmp_path):
    path = save_overlay(_frame_with_gap(), np.empty((0, 2)), tmp_path / "overlay.png")

    picture = np.asarray(Image.open(path).convert("RGB")).astype(int)  # 1.5 px of picture per pixel
    grey = picture[36:90, 36:90]  # around the particle, away from the gap
    assert grey.std() > 20, "the frame's pixels are drawn, not one flat colour"
    assert (grey[..., 0] == grey[..., 2]).all(), "a frame's own pixels are grey"
    gap = picture[18:27, 18:27]
    assert (gap[..., 2] - gap[..., 0] > 50).all(), "the NaN pixels are marked in a colour no grey pixel takes"
