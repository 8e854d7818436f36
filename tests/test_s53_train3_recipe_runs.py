"""A recipe's run folder is trained by one run at a time, and sessions started within the same second stay
apart in the final model's lineage."""

import subprocess
import sys
import textwrap

import pytest
import torch

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.recipes import load_recipe, run_recipe, sessions_of
from napari_particle_detect.learning.training import session_fields

from helpers import tiny_recipe


def test_sessions_started_in_the_same_second_are_two_sessions():
    # Named by their start to the second, a session paused at once and the one resuming it read as one.
    cpu = torch.device("cpu")
    first, second = session_fields(cpu), session_fields(cpu)
    assert first["session"] != second["session"]
    history = [{"epoch": 0, "seconds": 0.0},
               {"epoch": 1, "seconds": 0.2, **first, "paused_sessions": [{"epoch": 1, "seconds": 0.1, **second,
                                                                          "steps": 1}]}]
    assert len(sessions_of(history)) == 2


def test_a_second_run_of_a_recipe_being_trained_is_refused_and_changes_nothing(tmp_path):
    path = tiny_recipe(tmp_path, "held")
    folder = load_recipe(path).run_folder
    # Another process training the recipe, held before its first step until told to stop (then it pauses there).
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        from napari_particle_detect.learning.recipes import run_recipe

        def hold():
            print("training", flush=True)
            sys.stdin.read()
            return True

        run_recipe({str(path)!r}, threads=1, cancel=hold)
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "training"
        before = sorted(p.name for p in folder.iterdir())
        with pytest.raises(ParticleDetectError, match="another run of this recipe .* is training in this folder now"):
            run_recipe(path, threads=1)
        assert sorted(p.name for p in folder.iterdir()) == before
    finally:
        holder.communicate("", timeout=60)
    # Let go, the folder is the next run's, and the lock is not left beside it.
    assert run_recipe(path, minutes=1e-9, threads=1).paused
    assert sorted(p.name for p in folder.parent.iterdir()) == ["held"]
