"""Messages of the review projects said in good English where a count is one."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from helpers import tiny_recipe
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.projects.project import Project
from napari_particle_detect.learning.recipes import RunStatus, load_recipe
from napari_particle_detect.projects.acceptance import AcceptCheck


def test_accepting_a_frame_with_one_centre_left_asks_in_the_singular():
    # A threshold pushed up by mistake hides all but one centre: the question read "Accept frame 0 with 1 centres?
    # ... hides 1 of the 1 centres ...; accepting drops them".
    assert AcceptCheck(kept=1, detected=2, dropped=1, detected_threshold=0.35).question(0, 0.53) == (
        "Accept frame 0 with 1 centre? The threshold 0.53 hides 1 of the 2 centres the model detected at its own "
        "threshold 0.35; accepting drops it, and a round would learn that it is not a particle.")
    assert "hides the one centre the model detected" in AcceptCheck(0, 1, 1, 0.35).question(4, 0.9)
    assert AcceptCheck(15, 20, 5, 0.35).question(0, 0.53).startswith(
        "Accept frame 0 with 15 centres? The threshold 0.53 hides 5 of the 20 centres the model detected")


def test_a_finished_recipe_of_one_phase_is_said_in_the_singular(tmp_path):
    path = tiny_recipe(tmp_path, "one-phase")
    recipe = load_recipe(path)
    assert len(recipe.phases) == 1
    done = RunStatus(recipe, [recipe.phases[0].name], None, False, tmp_path / "model.pt")
    assert done.describe() == f"one-phase: its one phase done -> {tmp_path / 'model.pt'}"
    two = replace(recipe, phases=recipe.phases * 2)
    assert RunStatus(two, [], None, False, tmp_path / "model.pt").describe().startswith("one-phase: all 2 phases done")


def test_a_frame_beyond_a_single_image_project_is_said_in_the_singular(tmp_path):
    data = np.random.default_rng(0).random((32, 32)).astype(np.float32)
    project = Project.open(tmp_path / "one.particle-detect", n_frames=1, frame_shape=(32, 32), first_frame=data)
    with pytest.raises(ParticleDetectError) as refused:
        project.save_frame(1, pd.DataFrame({"y": [5.0], "x": [5.0], "score": [1.0], "source": ["added"]}))
    assert str(refused.value).endswith("frame 1 is beyond this image, one frame (frame 0)")
    project.save_frame(0, pd.DataFrame({"y": [5.0], "x": [5.0], "score": [1.0], "source": ["added"]}))
    (project.folder / "frames" / "frame-0003.csv").write_text("frame,y,x,score,source\n3,5,5,1,added\n")
    again = Project.open(project.folder, n_frames=1, frame_shape=(32, 32), first_frame=data)
    with pytest.warns(UserWarning, match=r"frame 3 is beyond this image, one frame \(frame 0\) \(left out\)"):
        assert again.saved_frames() == [0]
