"""particle-detect gui on a TIFF whose metadata gives pixels that are not square (an ImageJ TIFF of 0.5 x 0.25 µm
pixels) opened it drawn at scale 1, its particles stretched on the canvas, and nothing said it, where detect warns of
it: a user took the stretched particles for the sample's, and the dock detected them so. It is said on opening, in
detect's words; nothing for square pixels."""

import numpy as np
import tifffile

from napari_particle_detect.cli.gui import build_viewer

from helpers import notification_count, notifications_since


def _imagej_tiff(path, y_um: float, x_um: float):
    image = np.random.default_rng(0).integers(0, 255, (3, 48, 48), dtype=np.uint8)
    tifffile.imwrite(path, image, imagej=True, resolution=(1 / x_um, 1 / y_um), metadata={"axes": "TYX", "unit": "um"})
    return path


def test_gui_says_when_a_files_pixels_are_not_square(tmp_path, project_home, napari_app_of_its_own):
    stretched = _imagej_tiff(tmp_path / "stretched.tif", 0.5, 0.25)
    square = _imagej_tiff(tmp_path / "square.tif", 0.25, 0.25)
    seen = notification_count()
    viewer = build_viewer([square, stretched], show=False)
    try:
        said = [m for m in notifications_since(seen) if "not square" in m]
        assert len(said) == 1, said
        assert said[0].startswith("stretched.tif: its metadata gives pixels of 0.5 µm in y and 0.25 µm in x, "
                                  "not square")
        assert "particles look stretched 2 times along x" in said[0]
    finally:
        viewer.close()
