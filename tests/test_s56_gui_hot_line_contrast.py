"""A volume (or frame) with the sensor's hot line (a row at 65535) opened by particle-detect gui showed nearly black:
its contrast's top was the hot line's level (the line is more than 0.1 % of a slice). The contrast is now read
without such spikes, as detection normalises."""

import numpy as np
import tifffile

from napari_particle_detect.cli.gui import open_images


def test_a_hot_line_does_not_set_the_top_of_the_contrast(tmp_path, make_napari_viewer):
    rng = np.random.default_rng(5)
    volume = rng.normal(150, 20, (6, 48, 48)).clip(0).astype(np.uint16)
    volume[:, 20, :] = 65535
    path = tmp_path / "hot.tif"
    tifffile.imwrite(path, volume, imagej=True, metadata={"axes": "ZYX"})
    [layer] = open_images(make_napari_viewer(), [path])
    low, high = layer.contrast_limits
    assert 50 < low < 150 < high < 400
