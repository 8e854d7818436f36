"""A remote round's time told again: its end said "finished in 19 s (3 s of it on the dask worker)", a dock opened
again "finished in 3 s" (the project kept the worker's seconds alone)."""

import time
from pathlib import Path

import torch

from napari_particle_detect._napari.round_reports import recorded_time
from napari_particle_detect.learning.finetune import RoundResult
from napari_particle_detect.learning.rounds import RoundOutcome, run_and_commit_cancellably
from napari_particle_detect.models.registry import DetectorModel, ModelCard
from napari_particle_detect.projects.project import Project, RoundInfo
from napari_particle_detect.projects.project_state import FieldChecker, parse_round


def _round_run(project: Project, worker: str | None):
    """A round's run() as the docks give it, trained (as far as the project sees) on ``worker`` (None: here)."""
    card = ModelCard(training={"fine_tuned": {"worker": worker} if worker else {}})
    result = RoundResult(DetectorModel(torch.nn.Identity(), card), 1, 0, None, None, seconds=0.1)

    def run() -> RoundOutcome:
        time.sleep(0.2)  # connecting, sending the examples, fetching the model back
        info = RoundInfo(number=0, origin="fine-tuned", parent=1, seconds=result.seconds)
        return RoundOutcome(project.new_workspace(), info, result)
    return run


def _unheard(event: dict) -> None:
    pass


def test_a_remote_round_records_the_time_waited_for_it_and_tells_it_again(tmp_path):
    project = Project.open(tmp_path / "img.tif", n_frames=1, frame_shape=(8, 8))
    remote = run_and_commit_cancellably(project, _round_run(project, "tcp://gpu:8786"), lambda: False, _unheard)
    local = run_and_commit_cancellably(project, _round_run(project, None), lambda: False, _unheard)
    kept = Project.open(tmp_path / "img.tif").rounds
    assert kept[0].waited == remote.waited and 0.2 <= remote.waited < 60 and kept[1].waited is None is local.waited

    told = parse_round({"number": 2, "origin": "fine-tuned", "parent": 1, "seconds": 3.0, "waited": 19.0}, 0,
                       FieldChecker(Path("state.json")))
    assert recorded_time(told) == "19 s (3 s of it on the dask worker)"
    older = parse_round({"number": 2, "origin": "fine-tuned", "parent": 1, "seconds": 3.0}, 0,
                        FieldChecker(Path("state.json")))  # recorded before the wait was
    assert older.waited is None and recorded_time(older) == "3 s"
