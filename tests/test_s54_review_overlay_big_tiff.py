"""detect over a folder passes over the overlays it drew by their mark; the check reads headers only, so a mosaic
TIFF over Pillow's pixel limit in that folder no longer stops the run with a DecompressionBombError."""

from __future__ import annotations

import warnings

import numpy as np
import tifffile

from napari_particle_detect.cli.main import _without_overlays
from napari_particle_detect.files.overlay import is_overlay, save_overlay


def _big_tiled_tiff(path) -> None:
    # 14000 x 14000 px (196 Mpx, over Pillow's 179 Mpx refusal), written as compressed tiles of zeros: cheap.
    tile = np.zeros((256, 256), np.uint8)
    tiles = (tile for _ in range((-(-14000 // 256)) ** 2))
    tifffile.imwrite(path, tiles, shape=(14000, 14000), dtype=np.uint8, tile=(256, 256), compression="zlib")


def test_a_tiff_over_pillows_limit_is_no_overlay_and_no_crash(tmp_path):
    big = tmp_path / "mosaic.tif"
    _big_tiled_tiff(big)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nor the bomb warning Pillow gives above 89 Mpx
        assert is_overlay(big) is False
        assert _without_overlays([str(tmp_path)], [big]) == [big]


def test_overlays_of_each_marked_format_are_still_recognised(tmp_path):
    frame = np.random.default_rng(0).random((32, 32)).astype(np.float32)
    for suffix in ("png", "jpg", "tif", "tiff"):
        assert is_overlay(save_overlay(frame, np.array([[10.0, 12.0]]), tmp_path / f"o.{suffix}")), suffix
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, (frame * 255).astype(np.uint8), description="a microscope's own")
    assert not is_overlay(plain)
    assert not is_overlay(tmp_path / "missing.png")
    (tmp_path / "broken.tif").write_bytes(b"II*\x00garbage")
    assert not is_overlay(tmp_path / "broken.tif")
