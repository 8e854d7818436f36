"""The Fine-tune status line's verdict goes with its round: deleted from the table, the round was still offered
there ("double-click round-002 in the table to use it anyway")."""

from dataclasses import replace

import numpy as np
import pytest

from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import make_widget, run_detect

TINY_TUNE = replace(FINE_TUNE, steps_per_epoch=2, batch_size=2, crop=32, threads=1, learn_criterion=False)

pytestmark = pytest.mark.usefixtures("project_home")


def test_deleting_the_round_a_verdict_speaks_of_clears_it(make_napari_viewer, qtbot, light_model):
    viewer = make_napari_viewer()
    viewer.add_image(np.stack([synthesize(benchmark_config("fluorescent", 0.5, (64, 64)), seed=s).image
                               for s in range(2)]), name="cells")
    widget = make_widget(viewer, light_model)
    run_detect(widget, qtbot, scope=1)
    viewer.dims.set_current_step(0, 0)
    widget.review.accept_and_next()
    panel = widget.finetune
    panel.run(TINY_TUNE)
    qtbot.waitUntil(lambda: not panel.running(), timeout=120_000)
    assert panel.status.text().startswith("round-002: ")
    if widget.annotation.project.current_round.number == 2:  # a round in use is not deleted: go back to round 1
        panel._use_row(0)
    panel.table.selectRow(1)
    assert panel.round_actions.delete(confirm=False)
    assert [info.number for info in widget.annotation.project.rounds] == [1]
    assert "round-002" not in panel.status.text()
    assert panel.progress.value() == 0
