"""Counts of one said as of one: '1 masked pixel(s)', 'out of range: 1 frame(s)', '1 NaN or infinite pixel(s) in
1 frame(s)', and detect's kind line '61 rods (61 rows)' (a rod is a row: the count said twice)."""

import numpy as np
import pytest

from napari_particle_detect.cli.main import main
from napari_particle_detect.detection.preprocessing import GapRecord, frame_indices, refuse_masked
from napari_particle_detect.errors import ParticleDetectError


def test_one_masked_pixel_is_one():
    image = np.ma.masked_array(np.zeros((8, 8)), mask=False)
    image[0, 0] = np.ma.masked
    with pytest.raises(ParticleDetectError) as raised:
        refuse_masked(image, "image")
    assert str(raised.value) == ("image: a masked array with 1 masked pixel, which detection would read as valid; fill "
                                 "it (image.filled(value)) or crop it away first")


def test_a_frame_out_of_range_of_one_frame():
    with pytest.raises(ParticleDetectError, match=r"^image: frame 2 is out of range: 1 frame, so 0 to 0 "):
        frame_indices([2], 1)


def test_one_missing_pixel_in_one_frame():
    record = GapRecord()
    missing = np.zeros((10, 10), bool)
    missing[0, 0] = True
    record.add(missing)
    assert record.describe().startswith("1 NaN or infinite pixel in 1 frame, 1 % of their pixels")


def test_detects_rods_line_says_their_count_once(tmp_path, capsys):
    import tifffile

    from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

    sample = synthesize_rods(benchmark_rod_config("fluorescent", 0.15, shape=(96, 96)), seed=3)
    tifffile.imwrite(tmp_path / "rods.tif", sample.image)
    assert main(["detect", str(tmp_path / "rods.tif"), "--kind", "rods", "-o", str(tmp_path / "out.csv")]) == 0
    captured = capsys.readouterr()
    said = [line for line in (captured.out + captured.err).splitlines() if " rods " in line and "frame" in line]
    assert len(said) == 1 and said[0].endswith(" rods in 1 frame") and "rows" not in said[0], said
