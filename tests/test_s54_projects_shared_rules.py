"""Rules kept in one place: where a training run keeps its resume state (every module that writes, refuses or
looks for it names it with models.registry.resume_state_path), and whether a point lies in an area (one
function, False beyond the frame, where a second copy took the edge pixel's)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from napari_particle_detect.cli.checks import model_outputs
from napari_particle_detect.kinds.evaluation import mask_value_at
from napari_particle_detect.learning import training
from napari_particle_detect.models import registry


def test_the_resume_state_is_named_by_one_function(tmp_path: Path) -> None:
    weights = tmp_path / "run.v2.pt"
    assert registry.resume_state_path(weights) == tmp_path / "run.v2.state.pt"
    assert training.resume_state_path is registry.resume_state_path
    # What `train` refuses to replace without --overwrite is the file the run writes.
    assert model_outputs(tmp_path / "run")["training state"] == registry.resume_state_path(tmp_path / "run.pt")


def test_a_point_beyond_the_frame_is_in_no_area() -> None:
    area = np.ones((4, 6), dtype=bool)
    points = [[-3.0, 1.0], [1.0, 9.0], [1.0, 1.0], [3.4, 5.4]]
    # A copy in training (pseudo-labels, the keep/drop rule's cases) took the edge pixel's for the first two.
    assert mask_value_at(area, points).tolist() == [False, False, True, True]
    assert mask_value_at(area, np.asarray(points)).tolist() == [False, False, True, True]
    assert mask_value_at(area, np.zeros((0, 2))).shape == (0,)
    assert not hasattr(training, "mask_at")  # one rule, one name: the rounds import mask_value_at
