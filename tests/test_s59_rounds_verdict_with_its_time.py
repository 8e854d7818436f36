"""The end of a round: "finished in 3 s" took the status line for a moment, then the verdict replaced it, a flash the
user could not read. The verdict says the time, once, on one line (a remote round's as long as it was waited for)."""

from napari_particle_detect._napari.finetune_panel import FineTunePanel
from napari_particle_detect._napari.round_progress import verdict
from napari_particle_detect._napari.state import DockState
from napari_particle_detect.projects.project import RoundInfo

PARENT = RoundInfo(1, "shipped")
ROUND = RoundInfo(2, "fine-tuned", parent=1, held_out=2, f1=0.105, parent_f1=0.118, improved=False, seconds=3.2)
SCORING = "scoring the new round on the held-out tiles: 2 of 2 areas"


def test_a_rounds_time_is_told_with_its_verdict_not_before_it(qtbot):
    panel = FineTunePanel(DockState())
    qtbot.addWidget(panel)
    panel.status.setText(SCORING)
    panel._on_progress({"phase": "done", "seconds": 3.24})
    assert panel.status.text() == SCORING and panel.phases == ["done"]
    said = panel.show_verdict(ROUND, PARENT)
    assert said == f"{verdict(ROUND, PARENT)}. Finished in 3 s" and panel.status.text() == said

    panel._on_progress({"phase": "done", "seconds": 3.24, "waited": 19.4})  # a remote round's
    said = panel.show_verdict(ROUND, PARENT)
    assert said.endswith(". Finished in 19 s (3 s of it on the dask worker)"), said
    assert panel.show_verdict(ROUND, PARENT) == verdict(ROUND, PARENT)  # told again: no time of a round before
