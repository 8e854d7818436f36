"""napari_particle_detect.read_image of a TIFF whose pixels are not square warns once, as detect on the file does
(it dropped the pixel size silently); square pixels, and the package's own reader, say nothing."""

import logging

import numpy as np
import tifffile

import napari_particle_detect
from napari_particle_detect.files import io


def _imagej_tiff(path, y_um: float, x_um: float, frames: int = 1):
    image = np.squeeze(np.random.default_rng(0).integers(0, 255, (frames, 32, 32), dtype=np.uint8))
    tifffile.imwrite(path, image, imagej=True, resolution=(1 / x_um, 1 / y_um), metadata={"unit": "um", "axes": "TYX" if frames > 1 else "YX"})
    return path, image


def _said(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if "not square" in record.getMessage()]


def test_pixels_not_square_are_warned_of_once_by_the_public_reader(tmp_path, caplog):
    path, image = _imagej_tiff(tmp_path / "stretched.tif", 0.5, 0.25, frames=3)
    with caplog.at_level(logging.WARNING):
        stack = napari_particle_detect.read_image(path, lazy=True)
    assert np.array_equal(np.asarray(stack), image)
    assert _said(caplog) == [f"{path}: its metadata gives pixels of 0.5 µm in y and 0.25 µm in x, not square, and "
                             "detection reads them as square: particles look stretched 2 times along x; resample the "
                             "image to square pixels first, or the sizes and positions found may be off"]


def test_square_pixels_and_the_internal_reader_say_nothing(tmp_path, caplog):
    square, image = _imagej_tiff(tmp_path / "square.tif", 0.25, 0.25)
    stretched, _ = _imagej_tiff(tmp_path / "stretched.tif", 0.5, 0.25)
    with caplog.at_level(logging.WARNING):
        assert np.array_equal(napari_particle_detect.read_image(square), image)
        io.read_image(stretched)
    assert _said(caplog) == []
