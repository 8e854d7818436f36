"""The spheres dock's Fine-tune box after Add… of a model with a long file name: its 'from' cell took 441 px and
pushed 'trained', 'F1' and 'result' behind a sideways scroll at the dock's narrowest, and the status line's
"(added from unet_finetuned_…_view.pt)", one unbreakable word, widened the dock to it."""

import shutil
import tempfile
from pathlib import Path

import pytest
import tifffile
from qtpy.QtCore import Qt

from napari_particle_detect._napari.finetune_panel import ROUND_COLUMNS
from napari_particle_detect.models.registry import default_model_path

from helpers import answer_questions, small_stack

pytestmark = pytest.mark.usefixtures("project_home")
FROM_COLUMN = ROUND_COLUMNS.index("from")
LONG_NAME = "unet_finetuned_on_experiment_2026_12_01_large_field_of_view"


def test_a_long_model_file_name_leaves_the_rounds_table_and_the_dock_their_width(make_napari_viewer, qtbot):
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="s58") as folder:  # short: the dock names the project
        folder = Path(folder)
        tifffile.imwrite(folder / "img.tif", small_stack(2, 64), photometric="minisblack")
        weights = default_model_path()
        for suffix in (".pt", ".json"):
            shutil.copy(weights.with_suffix(suffix), folder / f"{LONG_NAME}{suffix}")
        viewer = make_napari_viewer(show=True)
        window = viewer.window._qt_window
        window.resize(1280, 900)
        viewer.open(str(folder / "img.tif"))
        dock, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Particle detection")
        answer_questions(widget)
        widget.detect.add_model_file(str(folder / f"{LONG_NAME}.pt"))
        window.resizeDocks([dock], [490], Qt.Orientation.Horizontal)  # as narrow as the dock goes
        qtbot.waitExposed(widget)
        panel = widget.finetune
        assert f"added from {LONG_NAME}.pt" in panel.status.text()
        qtbot.waitUntil(lambda: widget.width() < 600, timeout=3000)
        assert panel.status.minimumSizeHint().width() < 200  # the status line breaks in the name: the dock keeps its width
        table, header = panel.table, panel.table.horizontalHeader()
        row = next(r for r in range(table.rowCount()) if LONG_NAME in table.item(r, FROM_COLUMN).text())
        qtbot.waitUntil(lambda: header.length() <= table.viewport().width(), timeout=3000)
        assert all(header.sectionSize(col) >= header.sectionSizeHint(col) for col in range(len(ROUND_COLUMNS)))
        assert LONG_NAME in table.item(row, FROM_COLUMN).toolTip()  # elided in the cell, whole in its tooltip
        viewer.close()
