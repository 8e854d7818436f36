"""A recipe run in sessions of fewer minutes than a session takes to prepare its phase still advances."""

import torch

from napari_particle_detect.models import load_model

from napari_particle_detect.learning.recipes import final_model_path, load_recipe, phase_files, run_recipe
from napari_particle_detect.learning.training import read_training_state, resume_state_path

from helpers import tiny_recipe


def test_each_session_of_a_recipe_trains_a_step_however_few_its_minutes(tmp_path):
    # `recipe R.toml --minutes 0.02`: reading the recipe and preparing the phase outlasted the minutes, so every
    # session stopped before its first step, wrote nothing to resume from, and said "paused ... run the recipe
    # again to resume": run again and again, it never advanced.
    torch.set_num_threads(1)
    path = tiny_recipe(tmp_path, "short-sessions")
    recipe = load_recipe(path)
    state = resume_state_path(phase_files(recipe, 0)[0])
    first = run_recipe(path, minutes=1e-9, threads=1)
    assert first.paused and read_training_state(state)["step"] == 1
    # Where it goes on, not "at its last finished epoch": none is finished, and the step done is kept.
    assert "paused in phase 'only'; it resumes at step 2 of epoch 1: run the recipe again to resume" in \
        first.describe()
    run_recipe(path, minutes=1e-9, threads=1)
    assert read_training_state(state)["step"] == 2  # the next session goes on from there
    done = run_recipe(path, minutes=1e-9, threads=1)  # the epoch's last step, then its scoring: the phase is done
    assert done.model == final_model_path(recipe) and not state.exists()
    (tmp_path / "straight").mkdir()
    other = tiny_recipe(tmp_path / "straight", "short-sessions")
    straight = run_recipe(other, threads=1)
    ours, theirs = (load_model(m, "cpu").network.state_dict() for m in (done.model, straight.model))
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)  # where one uninterrupted run ends
