"""What the command line says of inputs a user meets: a volume left out of a 3D round for want of its table, an RGBA
PNG (its alpha is no channel to choose), a file of an unsupported type (every accepted kind named), a TIFF of no
pixels, and the detect bar's length from its first line."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.io import IMAGE_SUFFIXES, read_image

from helpers import small_stack


def write_volume(path, centres: np.ndarray) -> None:
    """A 12x40x40 ImageJ ZYX volume of bright spheres at ``centres``, with its frame,z,y,x table beside it."""
    zz, yy, xx = np.mgrid[:12, :40, :40]
    volume = np.zeros((12, 40, 40), np.float32)
    for z, y, x in centres:
        volume += np.exp(-((zz - z) ** 2 / 4 + (yy - y) ** 2 + (xx - x) ** 2) / 8)
    tifffile.imwrite(path, (volume * 200).astype(np.uint8), imagej=True, metadata={"axes": "ZYX"})
    rows = "\n".join(f"0,{z},{y},{x}" for z, y, x in centres)
    path.with_suffix(".csv").write_text(f"frame,z,y,x\n{rows}\n")


def test_a_3d_round_names_the_volumes_it_leaves_out_for_want_of_a_table(tmp_path, caplog):
    from napari_particle_detect.cli.volumes import load_volume_examples

    centres = np.array([[6, 12, 12], [6, 28, 28], [5, 12, 28]])
    write_volume(tmp_path / "a.tif", centres)
    write_volume(tmp_path / "b.tif", centres)
    (tmp_path / "b.csv").unlink()

    with caplog.at_level(logging.WARNING):
        examples = load_volume_examples([tmp_path], "ZYX", 6.0, 6.0, (1.0, 1.0, 1.0))

    assert len(examples) == 1
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("b.tif left out: no centre table (frame,z,y,x) beside it" in line for line in warned), warned


def rgba_png(tmp_path):
    from PIL import Image

    pixels = np.random.default_rng(0).integers(0, 255, (32, 32, 4), dtype=np.uint8)
    Image.fromarray(pixels, "RGBA").save(tmp_path / "rgba.png")
    return tmp_path / "rgba.png", pixels


def test_an_rgba_png_offers_its_three_colours_not_its_alpha(tmp_path):
    path, pixels = rgba_png(tmp_path)

    with pytest.raises(ParticleDetectError) as refused:
        read_image(path)
    assert "colour (RGBA) image" in str(refused.value) and "N from 0 to 2," in str(refused.value)
    with pytest.raises(ParticleDetectError, match=r"has 3 channels \(0-2\) \(RGBA: its alpha channel"):
        read_image(path, channel=3)  # the opacity, detected as if it were an image, before
    assert np.array_equal(read_image(path, channel=2), pixels[..., 2])


def test_a_cmyk_jpeg_still_offers_its_four_colours(tmp_path):
    from PIL import Image

    grey = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(grey).convert("CMYK").save(tmp_path / "print.jpg")
    with pytest.raises(ParticleDetectError, match=r"colour \(CMYK\) image.*N from 0 to 3,"):
        read_image(tmp_path / "print.jpg")
    assert read_image(tmp_path / "print.jpg", channel=3).shape == (32, 32)


def test_an_unsupported_file_type_names_every_kind_the_reader_takes(tmp_path, capsys):
    (tmp_path / "a.bmp").write_bytes(b"BM")

    assert main(["detect", str(tmp_path / "a.bmp"), "-o", str(tmp_path / "a.csv")]) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "a.bmp: unsupported file type '.bmp'; use TIFF" in line
    for suffix in IMAGE_SUFFIXES:  # JPEG and zarr were left out, accepted though they are
        assert suffix in line, (suffix, line)


@pytest.mark.parametrize("shape", [(0, 0), (0, 16, 16)])
def test_a_tiff_of_no_pixels_is_said_empty_not_truncated(tmp_path, shape):
    path = tmp_path / "empty.tif"
    with pytest.warns(UserWarning, match="zero-size"):
        tifffile.imwrite(path, np.zeros(shape, np.uint8))

    with pytest.raises(ParticleDetectError) as refused:
        read_image(path)
    assert "holds no pixels" in str(refused.value) and "corrupt" not in str(refused.value)


def test_the_detect_bar_shows_its_frames_to_detect_from_its_first_line(tmp_path, capsys):
    tifffile.imwrite(tmp_path / "stack.tif", small_stack(4, 48).astype(np.float32), photometric="minisblack")

    code = main(["detect", str(tmp_path / "stack.tif"), "-o", str(tmp_path / "c.csv"), "--frames", "1:4",
                 "--diameter", "8", "--runtime", "torch", "--device", "cpu"])

    bar = [line for line in capsys.readouterr().err.split("\r") if line.startswith("stack.tif:")]
    assert code == 0
    assert "0/3" in bar[0] and "0frame" not in bar[0], bar[:2]  # a bare count until the first frame, before
