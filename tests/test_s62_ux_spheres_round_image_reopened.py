"""An image closed and opened again while its fine-tuning round ran: the dock showed that image's project again, yet
the round's end spoke of it as of another image ("'cells': round-002 … (pick 'cells', then double-click round-002
…)", its bar left empty), and a round that beat its parent was not put in use in the dock showing it."""

from dataclasses import replace

import pytest
import tifffile

from napari_particle_detect.learning.finetune import FINE_TUNE

from helpers import make_widget, pick, run_detect, small_stack

pytestmark = pytest.mark.usefixtures("project_home")

# What the round learns does not matter here: the fewest steps, no criterion.
QUICK_TUNE = replace(FINE_TUNE, steps_per_epoch=5, batch_size=2, crop=32, threads=1, learn_criterion=False)


def test_a_round_ending_over_its_image_opened_again_speaks_of_the_image_shown(
        make_napari_viewer, qtbot, light_model, tmp_path):
    path = tmp_path / "cells.tif"
    tifffile.imwrite(path, small_stack(1, 64)[0])
    viewer = make_napari_viewer()
    viewer.open(path, plugin="napari")
    widget = make_widget(viewer, light_model)
    run_detect(widget, qtbot, scope=0)
    points = widget.annotation.points
    points.selected_data = set(range(len(points.data)))
    points.remove_selected()  # accepted empty: the round cannot be scored, so its verdict offers it in the table
    widget.review.accept_and_next()

    widget.finetune.run(QUICK_TUNE)
    viewer.layers.remove("cells")
    viewer.open(path, plugin="napari")
    pick(widget, "cells")
    qtbot.waitUntil(lambda: not widget.finetune.running(), timeout=60_000)

    said = widget.finetune.status.text()
    assert said.startswith("round-002:") and "pick 'cells'" not in said
    assert "double-click round-002 in the table" in said
    assert widget.finetune.progress.value() == widget.finetune.progress.maximum() == 1
