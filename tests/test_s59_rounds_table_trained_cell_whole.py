"""The Fine-tune rounds table beside a model added from a long file name: the 'from' and 'trained' columns shared
the room the others left in halves, and every round's 'trained' cell read "1 fr…gion" in a dock with room for it
whole. 'trained' is served first; the long name (the first row's only, its tooltip whole) takes what is left."""

from qtpy.QtWidgets import QTableWidgetItem

from napari_particle_detect._napari.finetune_panel import FROM_COLUMN, TRAINED_COLUMN, FineTunePanel
from napari_particle_detect._napari.state import DockState

ROWS = [["001", "unet_finetuned_on_experiment_2026_12_01_large_field_of_view.pt", "–", "–", "–", "–", ""],
        ["002 ◀", "001", "1 frame, 1 region", "2 tiles", "0.118", "0.250", "better"]]


def test_the_trained_cell_is_whole_where_the_table_has_room_for_it(qtbot):
    panel = FineTunePanel(DockState())
    qtbot.addWidget(panel)
    table, header = panel.table, panel.table.horizontalHeader()
    table.setRowCount(len(ROWS))
    for row, cells in enumerate(ROWS):
        for col, text in enumerate(cells):
            table.setItem(row, col, QTableWidgetItem(text))
    trained = panel._column_width(TRAINED_COLUMN)
    others = sum(panel._column_width(col) for col in range(table.columnCount()) if col not in (TRAINED_COLUMN,
                                                                                               FROM_COLUMN))
    panel.show()
    qtbot.waitExposed(panel)
    # Room for the trained cell whole and 'from' at its header's width, not for both cells whole.
    frame = panel.width() - table.viewport().width()
    panel.resize(frame + others + trained + header.sectionSizeHint(FROM_COLUMN) + 10, panel.height())
    qtbot.waitUntil(lambda: table.viewport().width() == others + trained + header.sectionSizeHint(FROM_COLUMN) + 10,
                    timeout=2000)
    assert header.sectionSize(TRAINED_COLUMN) >= trained
    assert header.sectionSize(FROM_COLUMN) >= header.sectionSizeHint(FROM_COLUMN)
    assert header.length() <= table.viewport().width()  # no sideways scroll
