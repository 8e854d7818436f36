"""A round of image A that ends while the dock shows image B: its verdict offered "(double-click round-002 in the
table to use it anyway)" under B's table (no round-002 of A's there; double-clicking B's round-002 switched B's
model), and B's panel kept A's full bar. The verdict says to pick A first; B's bar is not A's round's."""

from dataclasses import replace

import numpy as np
import pytest

import test_napari_finetune as finetune_tests
from test_napari_finetune import TINY_TUNE, start_round

pytestmark = pytest.mark.usefixtures("project_home")
reviewed = finetune_tests.reviewed  # its viewer with two frames accepted, as a fixture here


def test_a_verdict_told_under_another_images_table_says_to_pick_its_image_first(reviewed, qtbot):
    viewer, widget = reviewed
    panel = widget.finetune
    start_round(widget, TINY_TUNE)
    cells = widget.annotation
    viewer.add_image(np.random.default_rng(1).normal(10, 1, (2, 64, 64)).astype(np.float32), name="other")
    widget.image_combo.setCurrentText("other")
    qtbot.waitUntil(lambda: not panel.running(), timeout=120_000)
    text = panel.status.text()
    assert text.startswith("'cells': round-002"), text
    assert "(double-click" not in text, text  # the table shown is other's
    assert panel.progress.value() != panel.progress.maximum()  # other's bar: other has no round that ended

    # A round not switched in is offered: after picking its image.
    newest = cells.project.rounds[-1]
    panel._target = cells  # as when the round ended while 'other' was shown
    panel._on_done(replace(newest, improved=False, f1=0.5, parent_f1=0.6))
    panel._target = None
    said = panel.status.text()
    assert "(pick 'cells', then double-click round-002 in the table to use it anyway)" in said, said
    widget.image_combo.setCurrentText("cells")  # under its own table, the round is offered as it is
    assert panel.status.text() == said.removeprefix("'cells': ").replace("pick 'cells', then ", "")
    assert panel.progress.value() == panel.progress.maximum()
