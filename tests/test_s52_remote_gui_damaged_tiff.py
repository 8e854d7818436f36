"""`particle-detect gui` on a damaged TIFF: one line saying what is wrong with the file."""

import numpy as np
import pytest
import tifffile

from napari_particle_detect.cli.gui import open_images
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
def test_gui_says_what_is_wrong_with_a_damaged_tiff(tmp_path, project_home, make_napari_viewer, damaged, said):
    # The viewer gui builds opens its images so (build_viewer); a raw napari.Viewer here met napari's plugin
    # registry as another test's make_napari_viewer left it ("Command 'napari-svg.svg_writer' already registered").
    path = damaged(tmp_path)
    with pytest.raises(ParticleDetectError) as raised:
        open_images(make_napari_viewer(), [path])
    message = str(raised.value)
    # napari's reader said "Could not find a backend ... pip install imageio[pyav]" over four lines.
    assert message.startswith(f"{path}: ") and said in message, message
    assert "pip install" not in message and "\n" not in message, message
