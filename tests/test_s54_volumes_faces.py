"""The 3D network's heatmap at a volume's faces does not depend on how the volume is tiled: the context padded
beyond a face used to be mirrored one way for a volume wider than the tile and another way for a smaller one, so
the same volume gave other centres at its faces under another window (or cropped smaller), and volumes smaller
than a tile (most) found fewer spheres cut by their faces than larger ones."""

import numpy as np
import pytest

from napari_particle_detect.detection.volume_detection import load_volume_model
from napari_particle_detect.detection.volume_inference import predict_heatmap3d
from napari_particle_detect.detection.volume_resampling import normalise_volume
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume


@pytest.fixture(scope="module")
def working() -> np.ndarray:
    # Cubic voxels, spheres 6 px across: the working grid is the volume itself.
    config = VolumeConfig(shape=(56, 56, 56), volume_fraction=0.45, diameter=6.0, z_step=1.0, psf_sigma_xy=0.8)
    return normalise_volume(synthesize_volume(config, seed=4).image)


def test_the_heatmap_at_a_corner_is_the_same_in_one_tile_as_in_several(working):
    model = load_volume_model()
    stride = 2 ** (len(model.card.channels) - 1)
    one_tile = predict_heatmap3d(model.network, working, stride=stride, window=96)
    tiled = predict_heatmap3d(model.network, working, stride=stride, window=48)
    # The corner is far from the small tiles' seams (their cores are 32 voxels): only the faces' mirror differs.
    corner = (slice(0, 6),) * 3
    np.testing.assert_allclose(tiled[corner], one_tile[corner], atol=1e-3)
