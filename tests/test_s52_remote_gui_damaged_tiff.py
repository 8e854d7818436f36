"""`particle-detect gui` on a damaged TIFF: one line saying what is wrong with the file."""

import numpy as np
import pytest
import tifffile

from napari_particle_detect.cli.gui import build_viewer
from napari_particle_detect.errors import ParticleDetectError


def _not_a_tiff(folder):
    path = folder / "fake.tif"
    path.write_text("not a tiff\n")
    return path


def _truncated(folder):
    path = folder / "cut.tif"
    tifffile.imwrite(path, np.zeros((4, 128, 128), np.uint16))
    path.write_bytes(path.read_bytes()[:40_000])
    return path


@pytest.mark.parametrize("damaged, said", [(_not_a_tiff, "not a TIFF file"), (_truncated, "corrupt or truncated")])
def test_gui_says_what_is_wrong_with_a_damaged_tiff(tmp_path, project_home, damaged, said):
    path = damaged(tmp_path)
    with pytest.raises(ParticleDetectError) as raised:
        build_viewer([path], show=False)
    message = str(raised.value)
    # napari's reader said "Could not find a backend ... pip install imageio[pyav]" over four lines.
    assert message.startswith(f"{path}: ") and said in message, message
    assert "pip install" not in message and "\n" not in message, message
