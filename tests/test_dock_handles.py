"""A TIFF stack ``particle-detect gui`` opens a frame at a time keeps its file open while its viewer is open, and
closes it with the viewer's window: left open, Windows kept the file from being replaced or deleted after napari
was closed, and a session closing viewers (a notebook) leaked a handle per stack."""

import numpy as np
import pytest
import tifffile
from qtpy.QtCore import QEvent, QObject

from napari_particle_detect.cli.gui import open_images
from napari_particle_detect.files.io import LazyTiffStack

from helpers import small_stack

pytestmark = pytest.mark.usefixtures("project_home")


class RefuseClosing(QObject):
    """The user's Cancel in napari's "close this window?" question: the window stays open."""

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Close:
            event.ignore()
            return True
        return False


def opened_stack(viewer, folder) -> tuple[object, LazyTiffStack]:
    movie = folder / "movie.tif"
    tifffile.imwrite(movie, (small_stack(2, 32) * 4000).astype(np.uint16), imagej=True, metadata={"axes": "TYX"})
    [layer] = open_images(viewer, [movie])
    [stack] = [value for value in layer.data.dask.values() if isinstance(value, LazyTiffStack)]
    return layer, stack


def test_closing_the_viewer_closes_its_lazy_stacks_file_and_a_close_refused_keeps_it(make_napari_viewer, qtbot,
                                                                                     tmp_path):
    viewer = make_napari_viewer()
    layer, stack = opened_stack(viewer, tmp_path)
    window = viewer.window.main_menu.window()
    refusal = RefuseClosing()
    window.installEventFilter(refusal)
    window.close()
    qtbot.wait(50)
    assert not stack.closed and np.asarray(layer.data[1]).shape == (32, 32)  # still shown, still readable

    window.removeEventFilter(refusal)
    viewer.close()
    qtbot.waitUntil(lambda: stack.closed, timeout=2000)
    with pytest.raises(ValueError, match="movie.tif: the stack is closed"):
        np.asarray(layer.data[0])
