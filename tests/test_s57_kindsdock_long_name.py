"""A long layer name (napari names a layer after its file; 150 characters is common in microscopy exports) keeps the
Rods and chains dock its width: its image list shows the name elided, whole in its tooltip."""

import numpy as np
from qtpy.QtCore import Qt

from helpers import kinds_dock

LONG = ("2024-03-11_confocal_sample-A_objective63x_NA1.4_zoom2.0_pinhole1AU_laser488nm_power5pct_gain650_offset0_"
        "series0042_position07_channel01_deconvolved_final_v3")
DOCK_WIDTH_PX = 700  # wider, a dock beside napari's layer list and canvas pushes a laptop's window past its screen


def test_the_kinds_docks_image_list_keeps_its_width_with_a_long_name(make_napari_viewer, project_home):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((48, 48), np.float32), name=LONG)
    viewer.add_image(np.zeros((32, 32, 3), np.uint8), name=f"{LONG}_rgb", rgb=True)
    widget = kinds_dock(viewer, "rods", LONG)

    assert widget.image_combo.sizeHint().width() < DOCK_WIDTH_PX / 2
    assert widget.minimumSizeHint().width() < DOCK_WIDTH_PX
    assert widget.image_combo.itemData(0, Qt.ItemDataRole.ToolTipRole) == LONG
    widget.image_combo.setCurrentIndex(1)  # the colour image: its note and views offered
    assert widget._view_row.isVisibleTo(widget)
    assert widget.view_combo.sizeHint().width() < DOCK_WIDTH_PX / 2
    assert widget.minimumSizeHint().width() < DOCK_WIDTH_PX
