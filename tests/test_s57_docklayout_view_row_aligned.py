"""The row offered for a colour image (its views' list and "Use") lines up with the Particle detection dock's other
rows: its own layout's margins stood it 9 px in from each edge of the column, "Use" short of "Folder…" above it."""

import numpy as np
import pytest
from qtpy.QtCore import QPoint

from helpers import pick, shown_plugin_dock
from test_s57_docklayout_estimate_wraps import settle

pytestmark = pytest.mark.usefixtures("project_home")


def test_the_view_row_of_a_colour_image_lines_up_with_the_column(make_napari_viewer, qtbot):
    viewer, widget, _ = shown_plugin_dock(make_napari_viewer, qtbot)
    viewer.add_image((np.random.default_rng(0).random((96, 96, 3)) * 255).astype(np.uint8), name="colour", rgb=True)
    pick(widget, widget.image_combo.itemText(widget.image_combo.count() - 1))
    settle()
    assert widget._view_row.isVisible()

    column = widget._scroll.widget()

    def left(control) -> int:
        return control.mapTo(column, QPoint(0, 0)).x()

    def right(control) -> int:
        return control.mapTo(column, QPoint(control.width(), 0)).x()

    assert right(widget.view_button) == right(widget.project_button) == right(widget.image_combo)
    assert left(widget.view_combo) == left(widget.image_note)
