"""The dock's Detect says, once per image, that its pixels are not square, in detect's words: of its file's metadata
(an ImageJ TIFF of 0.5 x 0.25 µm pixels, opened with napari's own File > Open at scale 1), or of the layer's own y
and x scale. It detected the layer's pixels as square and said nothing, the particles it read stretched."""

from __future__ import annotations

import pytest
import tifffile

from napari_particle_detect.files.calibration import Calibration, not_square

from helpers import make_widget, notification_count, notifications_since, run_detect, small_stack, tiny_model_file


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("model"))


def _said_not_square(widget, qtbot, runs: int = 2) -> list[str]:
    seen = notification_count()
    for _ in range(runs):
        run_detect(widget, qtbot, scope=0)
    return [message for message in notifications_since(seen) if "not square" in message]


def test_detect_says_once_that_the_files_pixels_are_not_square(make_napari_viewer, qtbot, tmp_path, tiny_model):
    path = tmp_path / "stretched.tif"
    tifffile.imwrite(path, small_stack(2, 48), imagej=True, resolution=(1 / 0.25, 1 / 0.5),
                     metadata={"unit": "um", "axes": "TYX"})
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="napari")  # napari's own reader: scale 1, whatever the metadata says
    widget = make_widget(viewer, tiny_model)
    assert _said_not_square(widget, qtbot) == [f"stretched.tif: {not_square(Calibration((0.5, 0.25)))}"]


def test_detect_says_once_that_the_layers_own_scale_is_not_square(make_napari_viewer, qtbot, tiny_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 48)[0], name="scaled", scale=(0.5, 0.25))
    widget = make_widget(viewer, tiny_model)
    said = _said_not_square(widget, qtbot)
    assert len(said) == 1
    assert said[0].startswith("'scaled': the layer's scale gives pixels of 0.5 in y and 0.25 in x, not square")
    assert "stretched 2 times along x; resample the image to square pixels first" in said[0]


def test_square_pixels_are_not_said(make_napari_viewer, qtbot, tiny_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 48)[0], name="square", scale=(0.3, 0.3))
    assert _said_not_square(make_widget(viewer, tiny_model), qtbot, runs=1) == []
