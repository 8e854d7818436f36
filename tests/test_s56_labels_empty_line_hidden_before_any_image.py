"""The Review panel's empty proposal line took a row in a dock opened before any image: a label not yet shown reads as
hidden, so it was not hidden, and showing the panel showed it empty (found by the stop's review)."""

import pytest
from qtpy.QtWidgets import QApplication

from helpers import make_widget

pytestmark = pytest.mark.usefixtures("project_home")


def test_the_empty_proposal_line_is_hidden_in_a_dock_opened_before_any_image(make_napari_viewer):
    widget = make_widget(make_napari_viewer(show=True), None)
    QApplication.processEvents()
    assert widget.review.suggestion.text() == "" and widget.review.suggestion.isHidden()
