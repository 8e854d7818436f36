"""A layer named "x<b>y" (a file "x<b>y.tif") was drawn as markup by the docks' labels: Qt took the line for rich
text, and the name showed as "x" and a bold "y", or vanished. Names are shown as they are, the review line's own bold
"reviewed" kept."""

import pandas as pd
import pytest
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QLabel

from helpers import make_widget, small_stack

pytestmark = pytest.mark.usefixtures("project_home")

NAME = "x<b>y"


def shown_text(label) -> str:
    """The text a label draws (rich text rendered), as a user selecting all of it would copy it."""
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    length = 0
    while length <= len(QLabel.text(label)):  # its markup as set: at least as long as what it draws
        label.setSelection(0, length + 1)
        if len(label.selectedText()) <= length:
            break
        length += 1
    label.setSelection(0, length)
    return label.selectedText().replace("\u200b", "")


def test_the_review_line_shows_the_centres_layer_name_as_it_is(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 64)[0], name=NAME)
    widget = make_widget(viewer, None)
    annotation = widget.annotation
    annotation.replace_frames({0: pd.DataFrame({"y": [10.0], "x": [12.0], "source": "added"})})
    widget.review.accept_and_next()
    annotation.points.visible = False  # the line then names the layer whose eye shows them
    shown = shown_text(widget.review.status)
    assert "reviewed ✓" in shown and f"the eye of '{annotation.points.name}'" in shown, shown
    assert NAME in annotation.points.name


def test_the_rods_dock_line_shows_the_image_name_as_it_is(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 64)[0], name=NAME)
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Rods and chains")
    assert widget.session is not None and NAME in widget.status.text()
    assert f"in '{NAME}' with" in shown_text(widget.status)
