"""The docks closed with their X and opened again, and an image renamed under them: what they keep."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def _open(viewer, name: str = "Particle detection"):
    """The dock opened (again) from Plugins > napari-particle-detect."""
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", name)
    return getattr(widget, "__wrapped__", widget)


def test_s55_dockstate2_a_dock_opened_again_fine_tunes_as_the_user_last_chose(make_napari_viewer):
    # Reopened, Fine-tune's steps went back from 5 to 200, 'also learn from unreviewed frames' and its count to the
    # defaults, and 'train on' to this computer: the next round ran far longer, and here rather than on the GPU node.
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 48), name="cells")
    widget = _open(viewer)
    panel = widget.finetune
    at_first = panel.unlabelled_check.isChecked()
    panel.steps_spin.setValue(5)
    panel.unlabelled_check.setChecked(not at_first)
    panel.unlabelled_spin.setValue(7)
    panel.where_edit.setText("tcp://gpu-node:8786")
    viewer.window.remove_dock_widget(widget)

    panel = _open(viewer).finetune
    assert panel.steps_spin.value() == 5
    assert panel.unlabelled_check.isChecked() is (not at_first)
    assert panel.unlabelled_spin.value() == 7 and panel.unlabelled_spin.isEnabled() is (not at_first)
    assert panel.where_edit.text() == "tcp://gpu-node:8786"
    assert panel.round_config(panel.config).unlabelled_frames == (0 if at_first else 7)


def test_s55_dockstate2_fine_tune_choices_left_alone_stay_this_computer_s_defaults(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 48), name="cells")
    widget = _open(viewer)
    viewer.window.remove_dock_widget(widget)
    panel = _open(viewer).finetune
    assert panel.steps_spin.value() == panel.config.steps_per_epoch
    assert panel.unlabelled_check.isChecked() is (panel.config.unlabelled_frames > 0)
    assert panel.where_edit.text() == ""


def test_s55_dockstate2_rods_dock_keeps_a_renamed_colour_image_chosen(make_napari_viewer):
    # Renaming the colour image chosen in the Rods and chains dock moved its list to another image (and opened that
    # image's project), its view list rebuilt: the user's pick of a channel was lost.
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 48)[0], name="grey")
    viewer.add_image(np.zeros((32, 32, 3), np.uint8), rgb=True, name="photo")
    widget = _open(viewer, "Rods and chains")
    widget.image_combo.setCurrentIndex(widget.image_combo.findData("photo"))
    assert widget.session is None and widget.view_combo.count() > 2
    widget.view_combo.setCurrentIndex(2)  # the user's pick

    viewer.layers["photo"].name = "slide 3"
    assert widget.chosen_image() is viewer.layers["slide 3"] and widget.session is None
    assert widget.image_combo.currentText().startswith("slide 3")
    assert widget.view_combo.currentIndex() == 2
    assert widget.image_note.text().startswith("slide 3 is a colour (RGB) image")

    viewer.add_image(small_stack(1, 48)[0], name="another")  # the list filled again: the pick still stands
    assert widget.chosen_image() is viewer.layers["slide 3"] and widget.view_combo.currentIndex() == 2
