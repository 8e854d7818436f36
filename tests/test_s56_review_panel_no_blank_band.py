"""The Review panel's proposal line ("Next: …") takes no room while it says nothing: empty, it kept a blank band
of about 20 px between Review next and the key hint."""

import pytest
from qtpy.QtWidgets import QApplication

from helpers import make_widget, run_detect, small_stack

pytestmark = pytest.mark.usefixtures("project_home")


def _gap_over_hint(panel) -> int:
    QApplication.processEvents()
    hint = panel.layout().itemAtPosition(6, 0).widget()
    return hint.geometry().top() - panel.mode_combo.geometry().bottom()


def test_the_empty_proposal_line_leaves_no_blank_band(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer(show=True)
    viewer.add_image(small_stack(2, 64), name="cells")
    widget = make_widget(viewer, light_model)
    panel = widget.review
    spacing = max(panel.layout().verticalSpacing(), 0)
    assert _gap_over_hint(panel) <= spacing + 2 and panel.suggestion.isHidden()
    run_detect(widget, qtbot, scope=1)
    panel.review_next()
    assert panel.suggestion.text().startswith("Next: ") and not panel.suggestion.isHidden()
    assert _gap_over_hint(panel) > panel.suggestion.height() > 0  # said, it is shown between them
    viewer.dims.set_current_step(0, 1 - widget.annotation.current_frame())  # another frame: the line goes
    assert panel.suggestion.text() == "" and panel.suggestion.isHidden()
    assert _gap_over_hint(panel) <= spacing + 2
