"""A training table naming a frame its image does not have said "frame 3 is beyond the 1 frames of a.tif" of a
single 2D image: it now says what the image holds, a stack's frames numbered."""

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.kinds_training import load_kind_examples
from napari_particle_detect.learning.training import load_examples


def test_a_table_naming_a_frame_past_its_image_says_what_the_image_holds(tmp_path):
    image = np.random.default_rng(0).random((32, 32)).astype(np.float32)
    tifffile.imwrite(tmp_path / "a.tif", image)
    pd.DataFrame({"frame": [3], "y": [5.0], "x": [5.0]}).to_csv(tmp_path / "a.csv", index=False)
    with pytest.raises(ParticleDetectError) as refused:
        load_examples([tmp_path])
    assert str(refused.value) == f"{tmp_path / 'a.csv'}: frame 3 is beyond a.tif, one image (frame 0)"

    rods = tmp_path / "rods"
    rods.mkdir()
    tifffile.imwrite(rods / "s.tif", np.stack([image, image[::-1]]), photometric="minisblack")
    pd.DataFrame({"frame": [2], "y": [5.0], "x": [5.0], "angle": [0.0], "length": [12.0], "width": [4.0]}).to_csv(
        rods / "s.csv", index=False)
    with pytest.raises(ParticleDetectError) as refused:
        load_kind_examples([rods], "rods")
    assert str(refused.value) == f"{rods / 's.csv'}: frame 2 is beyond the 2 frames of s.tif (0 to 1)"


def test_a_table_of_one_centre_outside_its_image_is_said_in_the_singular(tmp_path):
    tifffile.imwrite(tmp_path / "a.tif", np.random.default_rng(0).random((32, 32)).astype(np.float32))
    pd.DataFrame({"y": [100.0], "x": [5.0]}).to_csv(tmp_path / "a.csv", index=False)
    with pytest.raises(ParticleDetectError) as refused:
        load_examples([tmp_path])
    assert str(refused.value) == (f"{tmp_path / 'a.csv'}: its one centre lies outside the 32x32 image; check the "
                                  "table's y and x columns (pixels, y first)")
