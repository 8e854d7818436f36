"""The Tracks panel reads the µm per pixel and the frame interval from the file whose pixels the image shows, as
Export does (image_views.pixels_file): a stack opened a frame at a time, and a channel of a Fiji hyperstack
(a view, whose own name is no file: Tracks found no calibration and its MSD came out in px² and frames)."""

import dask.array as da
import numpy as np
import pytest
import tifffile

from napari_particle_detect.cli.gui import open_images

from helpers import make_widget, small_stack

pytestmark = pytest.mark.usefixtures("project_home")

FIJI_CALIBRATION = {"resolution": (4.0, 4.0), "metadata": {"unit": "um", "finterval": 0.5}}  # 0.25 µm/px, 0.5 s


def tracks_boxes(widget) -> tuple[str, str, str]:
    tracks = widget.tracks
    return tracks.mpp_spin.text(), tracks.interval_spin.text(), tracks.calibration_note.text()


def test_tracks_reads_a_fiji_calibration_through_a_lazy_stack_and_a_channel_view(make_napari_viewer, tmp_path):
    movie, hyper = tmp_path / "movie.tif", tmp_path / "hyper.tif"
    frames = (small_stack(2, 32) * 4000).astype(np.uint16)
    tifffile.imwrite(movie, frames, imagej=True, resolution=FIJI_CALIBRATION["resolution"],
                     metadata={"axes": "TYX", **FIJI_CALIBRATION["metadata"]})
    tifffile.imwrite(hyper, np.stack([frames, frames], axis=1), imagej=True, resolution=FIJI_CALIBRATION["resolution"],
                     metadata={"axes": "TCYX", **FIJI_CALIBRATION["metadata"]})
    viewer = make_napari_viewer()
    stack, channels = open_images(viewer, [movie, hyper])
    assert isinstance(stack.data, da.Array)  # a frame at a time
    assert tuple(stack.scale) == tuple(channels.scale[1:]) == (1.0, 1.0, 1.0)  # the calibration is in the files only
    widget = make_widget(viewer, None)

    widget.image_combo.setCurrentIndex(widget.image_combo.findText("movie"))
    assert widget.annotation.image is stack
    assert tracks_boxes(widget) == ("0.25", "0.5 s", "from movie.tif's metadata: 0.25 µm/px, frames 0.5 s apart")

    widget.image_combo.setCurrentIndex(widget.image_combo.findText("hyper (2 channels)"))
    widget.view_combo.setCurrentIndex(1)
    view = widget.use_view()
    assert widget.annotation.image is view and view.name == "hyper (T frames, channel 1)"
    assert tracks_boxes(widget) == ("0.25", "0.5 s", "from hyper.tif's metadata: 0.25 µm/px, frames 0.5 s apart")
    assert widget.tracks.fps_spin.text() == "2"
