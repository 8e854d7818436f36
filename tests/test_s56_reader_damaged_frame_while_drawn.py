"""A dock's read of a damaged frame of a TIFF stack (on a worker thread) while napari drew the layer was given the blank
frame napari draws in its place, not told that the frame cannot be read: napari's sign that it draws is dask's global
configuration, seen by every thread, and its cache hands the drawn blank to any read during a later draw. Detection
then took the damaged frame for an empty one."""

import threading

import numpy as np
import pytest

from helpers import damaged_acquisition, small_stack
from napari_particle_detect._napari.image_views import layer_pixels
from napari_particle_detect.cli.gui import open_images
from napari_particle_detect.files.io import UnreadableFrameError


def _read_in_a_worker(layer, frame: int) -> BaseException | np.ndarray:
    """Frame ``frame`` of ``layer`` read on a thread of its own, as a dock's detection reads it (layer_pixels)."""
    got: list = []

    def read() -> None:
        try:
            got.append(np.asarray(layer_pixels(layer)[frame]))
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            got.append(exc)

    worker = threading.Thread(target=read)
    worker.start()
    worker.join(30)
    return got[0]


def test_a_damaged_frame_read_while_napari_draws_is_still_said_unreadable(tmp_path, make_napari_viewer):
    frames = small_stack(5, 48)
    path = damaged_acquisition(tmp_path / "movie.tif", frames, damaged=(2,))
    viewer = make_napari_viewer()
    [layer] = open_images(viewer, [path])
    assert not np.asarray(layer._slice.image.raw).any()  # frame 2, the middle one, drawn blank

    with layer.dask_optimized_slicing():  # napari in the middle of drawing the layer (on the main thread)
        got = _read_in_a_worker(layer, 2)
        good = _read_in_a_worker(layer, 3)
    assert isinstance(got, UnreadableFrameError), got
    assert np.array_equal(good, frames[3])
    with pytest.raises(UnreadableFrameError):
        np.asarray(layer.data[2])  # the layer's own data, read outside a drawing, as before
    viewer.dims.set_current_step(0, 1)
    viewer.dims.set_current_step(0, 2)
    assert not np.asarray(layer._slice.image.raw).any()  # still drawn blank
