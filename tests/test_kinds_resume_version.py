"""A rods or chains run resumed by another version of the package says so, as a spheres run does: its best epoch is
chosen among scores that another version's decoder gave."""

import logging
from dataclasses import replace

from napari_particle_detect import __version__
from napari_particle_detect.learning.kinds_training import train_kind
from napari_particle_detect.learning.training import read_training_state, resume_state_path
from napari_particle_detect.models.registry import save_tensors

from test_training_audit import CHAINS


def test_a_kind_run_paused_by_another_version_says_so_when_resumed(tmp_path, caplog):
    paused = tmp_path / "paused.pt"
    train_kind(replace(CHAINS, time_limit_s=1e-6), paused)  # stops after its first step, its cut epoch scored
    state_path = resume_state_path(paused)
    state = read_training_state(state_path)
    assert [record.get("version") for record in state["history"]] == [__version__]
    for record in state["history"]:  # as an earlier version's run left it
        record["version"] = "0.1.0"
    save_tensors(state, state_path)
    with caplog.at_level(logging.WARNING):
        train_kind(CHAINS, paused, resume=True)
    said = [r.getMessage() for r in caplog.records if "resumed by" in r.getMessage()]
    assert said == [f"{state_path}: started by version 0.1.0, resumed by version {__version__}: scores of earlier "
                    "epochs came from the decoder of version 0.1.0"]
