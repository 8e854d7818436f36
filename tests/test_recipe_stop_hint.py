"""A recipe stopped by Ctrl-C or a stop signal says how to go on, as train says --resume: the same command."""

import signal

from napari_particle_detect.cli.main import main
from napari_particle_detect.learning import training
from napari_particle_detect.learning.recipes import final_model_path, load_recipe

from helpers import signalling_in_step
from test_recipes import write


def test_a_recipe_stopped_mid_phase_says_the_same_command_goes_on_and_it_does(tmp_path, monkeypatch, capsys):
    # It said only 'interrupted by SIGTERM': nothing told a user that the phase's steps were kept, nor how to go on
    # (train's --resume is no recipe option).
    recipe = write(tmp_path / "recipes")
    real = training.take_step
    monkeypatch.setattr(training, "take_step", signalling_in_step(real, 3, signal.SIGTERM))
    # A Python handler first, as a program using the library has: the command line replaces only those it can put
    # back, and a test worker's own (set outside Python) would end the worker.
    before = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        assert main(["recipe", str(recipe), "--threads", "1", "--device", "cpu"]) == 143
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if before is None else before)  # None: set outside Python
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (f"particle-detect: interrupted by SIGTERM; the same command (recipe {recipe}) goes on where "
                       "it stopped")
    monkeypatch.setattr(training, "take_step", real)
    assert main(["recipe", str(recipe), "--threads", "1", "--device", "cpu"]) == 0
    assert final_model_path(load_recipe(recipe)).exists()
