"""A recipe stopped by Ctrl-C or a stop signal says how to go on, as train says --resume: the same command."""

from napari_particle_detect.cli.main import main
from napari_particle_detect.learning.recipes import final_model_path, load_recipe

from helpers import main_in_child
from test_recipes import write


def test_a_recipe_stopped_mid_phase_says_the_same_command_goes_on_and_it_does(tmp_path, monkeypatch):
    # It said only 'interrupted by SIGTERM': nothing told a user that the phase's steps were kept, nor how to go on
    # (train's --resume is no recipe option). In a process of its own: a test worker raising SIGTERM in itself died
    # in the suite now and then.
    recipe = write(tmp_path / "recipes")
    setup = ("import signal\nimport napari_particle_detect.learning.training as training\n"
             "from helpers import signalling_in_step\n"
             "training.take_step = signalling_in_step(training.take_step, 3, signal.SIGTERM)")
    command = ("recipe", str(recipe), "--threads", "1", "--device", "cpu")
    code, err = main_in_child(tmp_path, setup, *command)
    assert (code, err[-1]) == (143, f"particle-detect: interrupted by SIGTERM; the same command (recipe {recipe}) "
                                    "goes on at step 2 of epoch 2 of phase 'start'")
    assert not final_model_path(load_recipe(recipe)).exists()
    # Going on raises no signal, so it runs in this process, as main_in_child's would (its folder and homes): a
    # second Python start, with torch, took seconds.
    monkeypatch.chdir(tmp_path)
    for home in ("HOME", "NAPARI_PARTICLE_DETECT_HOME"):
        monkeypatch.setenv(home, str(tmp_path))
    assert main(list(command)) == 0
    assert final_model_path(load_recipe(recipe)).exists()
