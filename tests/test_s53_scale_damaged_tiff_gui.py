"""`particle-detect gui` on a TIFF stack with a damaged part: a stack cut short is refused as detect refuses it (napari's
reader showed its first frame alone), and a stack with one unreadable frame still opens (it was refused whole when
that frame was among those its contrast range was read from)."""

import numpy as np
import pytest
import tifffile

from napari_particle_detect.cli.gui import open_images
from napari_particle_detect.errors import ParticleDetectError

pytestmark = pytest.mark.usefixtures("project_home")


def _frames(count: int = 6) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.normal(500, 20, (count, 64, 64)) + 100 * np.arange(count)[:, None, None]).astype(np.uint16)


def _appended_pages(path, frames, compression=None):
    """Pages written one by one (each its own series), as a microscope's acquisition appends them."""
    with tifffile.TiffWriter(path) as tif:
        for frame in frames:
            tif.write(frame, contiguous=False, compression=compression)
    return path


def test_gui_refuses_a_stack_of_appended_pages_cut_short(tmp_path, make_napari_viewer):
    path = _appended_pages(tmp_path / "cut.tif", _frames())
    with tifffile.TiffFile(path) as tif:
        cut_at = tif.pages[3].dataoffsets[0] + 100
    path.write_bytes(path.read_bytes()[:cut_at])
    viewer = make_napari_viewer()
    with pytest.raises(ParticleDetectError, match="corrupt or truncated: only 3 frame"):
        open_images(viewer, [path])
    assert not viewer.layers  # not its first frame shown as if it were the whole file


# The middle and last frames: among those a stack's contrast range is read from (a small stack's is read whole).
@pytest.mark.parametrize("damaged", [3, 5])
def test_gui_opens_a_stack_with_one_damaged_frame(tmp_path, make_napari_viewer, damaged):
    frames = _frames()
    path = _appended_pages(tmp_path / "movie.tif", frames, compression="zlib")
    with tifffile.TiffFile(path) as tif:
        where = tif.pages[damaged].dataoffsets[0]
    data = bytearray(path.read_bytes())
    data[where + 2: where + 202] = b"\xff" * 200
    path.write_bytes(bytes(data))

    [layer] = open_images(make_napari_viewer(), [path])
    assert layer.data.shape == frames.shape
    readable = [f for f in range(len(frames)) if f != damaged]
    np.testing.assert_array_equal(np.asarray(layer.data[readable[-1]]), frames[readable[-1]])
    with pytest.raises(ParticleDetectError, match=f"cannot read frame {damaged}"):
        np.asarray(layer.data[damaged])  # said when that frame is shown or detected, not before
    low, high = layer.contrast_limits
    assert frames[readable].min() <= low < high <= frames[readable].max()
