"""A 3D layer whose axis labels already say what its axes are (the volume sample's z, y, x) is read that way by the
Volume detection (3D) dock, which asked "a volume, or frames? choose" of it all the same; napari's default labels
('0', '1', '2' or '-3', ...) say nothing, and the dock still asks."""

import numpy as np
import pytest

from napari_particle_detect._napari.sample_data import volume_sample
from napari_particle_detect._napari.volume_panel import VolumeDetectWidget

QUESTION = "3D layer: a volume, or frames? choose"


def _stack(viewer, name, **kwargs):
    rng = np.random.default_rng(11)
    return viewer.add_image(rng.random((8, 32, 32)).astype(np.float32), name=name, **kwargs)


def test_the_volume_sample_is_read_as_a_volume_without_asking(make_napari_viewer, project_home):
    viewer = make_napari_viewer()
    data, kwargs, kind = volume_sample()[0]
    viewer.add_image(data, **kwargs)
    dock = VolumeDetectWidget(viewer)
    assert dock.axes_combo.currentText() == "ZYX (one volume)"
    assert dock.axes_note.text() != QUESTION
    assert dock.axes_note.text() == "3D layer: ZYX, as its axis labels say"


def test_a_layer_labelled_zyx_gets_no_question(make_napari_viewer, project_home):
    viewer = make_napari_viewer()
    _stack(viewer, "zyx", axis_labels=("z", "y", "x"))
    dock = VolumeDetectWidget(viewer)
    assert dock.axes_combo.currentText() == "ZYX (one volume)"
    assert dock.axes_note.text() == "3D layer: ZYX, as its axis labels say"


def test_a_layer_labelled_tyx_is_read_as_frames(make_napari_viewer, project_home):
    viewer = make_napari_viewer()
    _stack(viewer, "tyx", axis_labels=("t", "y", "x"))
    dock = VolumeDetectWidget(viewer)
    assert dock.axes_combo.currentText().startswith("TYX")
    assert dock.axes_note.text() == "3D layer: TYX, as its axis labels say"


def test_a_layer_with_default_labels_still_gets_the_question(make_napari_viewer, project_home):
    viewer = make_napari_viewer()
    layer = _stack(viewer, "unlabelled")
    assert all(label.lstrip("-").isdigit() for label in layer.axis_labels)  # napari's numbers
    dock = VolumeDetectWidget(viewer)
    assert dock.axes_note.text() == QUESTION
    assert dock.axes_combo.currentText() == "ZYX (one volume)"  # the first choice, as before: nothing was read


def test_switching_from_a_labelled_layer_to_an_unlabelled_one_asks_again(make_napari_viewer, project_home):
    viewer = make_napari_viewer()
    _stack(viewer, "zyx", axis_labels=("z", "y", "x"))
    _stack(viewer, "unlabelled")
    dock = VolumeDetectWidget(viewer)
    dock.layer_combo.setCurrentText("zyx")
    assert dock.axes_note.text() == "3D layer: ZYX, as its axis labels say"
    dock.layer_combo.setCurrentText("unlabelled")
    assert dock.axes_note.text() == QUESTION


@pytest.mark.parametrize("labels, read", [(("z", "y", "x"), "ZYX"), (("t", "y", "x"), "TYX"),
                                          (("0", "1", "2"), ""), (("-3", "-2", "-1"), ""),
                                          (("depth", "y", "x"), "")])
def test_labelled_3d_axes(labels, read):
    from napari_particle_detect._napari.volume_panel import labelled_3d_axes

    class Layer:
        axis_labels = labels
    assert labelled_3d_axes(Layer()) == read
