"""``--axes TZYX`` on a series of one time point: ImageJ and OME-TIFF writers (tifffile among them) drop its
length-1 T, so the file reads 3D, and --axes TZYX was refused ("names 4 axes, but the image has 3") though a zarr
of the same series was read."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.axes import file_axes, read_volumes


@pytest.fixture
def volume() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 1000, (6, 16, 16), dtype=np.uint16)


@pytest.mark.parametrize("write", [
    lambda path, v: tifffile.imwrite(path, v[None], imagej=True, metadata={"axes": "TZYX", "spacing": 2.0}),
    lambda path, v: tifffile.imwrite(path, v[None], metadata={"axes": "TZYX", "PhysicalSizeZ": 2.0}, ome=True),
], ids=["imagej", "ome"])
def test_a_series_of_one_time_point_reads_with_axes_tzyx(tmp_path, volume, write):
    path = tmp_path / "series.tif"
    write(path, volume)
    axes = file_axes(path, "TZYX")
    assert (axes.axes, axes.source) == ("TZYX", "--axes")
    data = read_volumes(path, axes)
    assert data.shape == (1, 6, 16, 16)
    np.testing.assert_array_equal(np.asarray(data[0]), volume)


def test_a_stack_whose_metadata_names_no_axes_is_still_refused_tzyx(tmp_path, volume):
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, volume)  # 6 frames or 6 slices: nothing says it is one time point of a series
    with pytest.raises(ParticleDetectError, match="--axes TZYX names 4 axes, but the image has 3"):
        file_axes(path, "TZYX")

