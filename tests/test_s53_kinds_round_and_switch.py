"""Another kind or image chosen in the Rods and chains dock while a fine-tuning round runs: the dock refused to open
its project until the round ended (and after it, until the user chose again), so the image showed no layers, the
rounds table was empty and the status line blank, and the round's own line ("fine-tuning round-001…") was wiped."""

from dataclasses import replace

import numpy as np
import pytest

from helpers import kinds_dock
from napari_particle_detect.learning.kinds_rounds import round_config
from napari_particle_detect.synthetic.rods import rod_table

pytestmark = pytest.mark.usefixtures("project_home")
TINY = replace(round_config("rods"), steps_per_epoch=3, batch_size=2, crop=64)


def test_the_dock_works_on_the_kind_chosen_while_a_round_runs_and_the_round_names_its_image(
        make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.add_image(np.random.default_rng(0).random((64, 64)).astype(np.float32), name="img")
    widget = kinds_dock(viewer, "rods", "img")
    widget.session.set_detections(rod_table([24.0], [24.0], [0.0], [20.0], [4.0]).assign(frame=0, score=0.9), [0])
    widget.session.accept_frame(0)
    widget.rounds.run(TINY)
    assert widget.rounds.running()

    widget.kind_combo.setCurrentText("chains")
    assert widget.session is not None and widget.session.kind == "chains"
    assert widget.status.text() == "Detect finds chains in 'img' with the shipped model"
    assert widget.rounds.status.text() == "fine-tuning round-001…"  # the round still running says so
    qtbot.waitUntil(lambda: not widget.rounds.running(), timeout=120_000)
    assert widget.rounds.status.text().startswith("'img' rods: round-002")  # not the chains project's round

    widget.kind_combo.setCurrentText("rods")
    assert [layer.name for layer in viewer.layers] == ["img", "img rods"]
    assert widget.rounds.table.rowCount() == 2 and widget.rounds.status.text().startswith("round-002")
