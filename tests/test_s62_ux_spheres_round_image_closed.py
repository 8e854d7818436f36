"""An image closed while its fine-tuning round ran: the round's end offered "(pick 'cells', then double-click round-002
in the table …)", but 'cells' was no longer in the Image list to pick. It says to open it again."""

from dataclasses import replace

import pytest

from napari_particle_detect.learning.finetune import FINE_TUNE

from helpers import make_widget, pick, run_detect, small_stack

pytestmark = pytest.mark.usefixtures("project_home")

# What the round learns does not matter here: the fewest steps, no criterion.
QUICK_TUNE = replace(FINE_TUNE, steps_per_epoch=5, batch_size=2, crop=32, threads=1, learn_criterion=False)


def test_a_round_ending_after_its_image_closed_says_to_open_it_again(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(1, 64)[0], name="other")
    viewer.add_image(small_stack(1, 64)[0][::-1].copy(), name="cells")
    widget = make_widget(viewer, light_model)
    pick(widget, "cells")
    run_detect(widget, qtbot, scope=0)
    points = widget.annotation.points
    points.selected_data = set(range(len(points.data)))
    points.remove_selected()  # accepted empty: the round cannot be scored, so its verdict offers it in the table
    widget.review.accept_and_next()

    widget.finetune.run(QUICK_TUNE)
    viewer.layers.remove("cells")
    qtbot.waitUntil(lambda: not widget.finetune.running(), timeout=60_000)

    said = widget.finetune.status.text()
    assert widget.annotation.image.name == "other"
    assert said.startswith("'cells': round-002:") and "pick 'cells'" not in said
    assert "open 'cells' again, then double-click round-002 in the table" in said
