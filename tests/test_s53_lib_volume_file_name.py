"""A file name given to detect_volumes is refused as one, not as "a 0D array (a scalar)"."""

from pathlib import Path

import pytest

from napari_particle_detect import ParticleDetectError, detect_volumes


@pytest.mark.parametrize("path", ["cells.tif", Path("cells.tif")])
def test_detect_volumes_refuses_a_file_name_naming_it(path):
    with pytest.raises(ParticleDetectError) as refused:
        detect_volumes(path)
    message = str(refused.value)
    assert "not a file name ('cells.tif')" in message and "read_image" in message
    assert "scalar" not in message
