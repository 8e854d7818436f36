"""An ImageJ volume's voxel size: y from its own resolution tag (it was x's, so a volume of 0.5 x 0.25 µm pixels
was read, recorded and detected as one of square 0.25 µm pixels)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from napari_particle_detect.files.axes import file_axes


@pytest.mark.parametrize(("y_um", "x_um"), [(0.5, 0.25), (0.25, 0.25)])
def test_an_imagej_volumes_y_voxel_size_is_its_own(tmp_path, y_um, x_um):
    path = tmp_path / "volume.tif"
    tifffile.imwrite(path, np.zeros((4, 32, 32), np.uint8), imagej=True, resolution=(1 / x_um, 1 / y_um),
                     metadata={"unit": "um", "axes": "ZYX", "spacing": 1.5})

    axes = file_axes(path)

    assert axes.axes == "ZYX" and axes.voxel_um == pytest.approx((1.5, y_um, x_um))
