"""A channel chosen in a file of one: the advice names no keyword a call cannot spell ("leave out channel=")."""

import numpy as np
import pytest
import tifffile
from PIL import Image

from napari_particle_detect import read_image
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.axes import file_axes


@pytest.mark.parametrize("name", ["grey.tif", "grey.png"])
def test_a_channel_of_a_grey_file_is_refused_with_advice_for_both_spellings(tmp_path, name):
    path = tmp_path / name
    pixels = np.zeros((24, 24), np.uint8)
    if name.endswith(".tif"):
        tifffile.imwrite(path, pixels)
    else:
        Image.fromarray(pixels).save(path)
    readers = (read_image, file_axes) if name.endswith(".tif") else (read_image,)
    for reader in readers:
        with pytest.raises(ParticleDetectError) as refusal:
            reader(path, channel=1)
        assert str(refusal.value) == f"{path}: channel=1 (--channel 1), but it has no channels (shape 24x24); leave it out"
