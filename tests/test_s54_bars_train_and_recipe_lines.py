"""Training's progress lines and bars as a user reads them, one code for every kind: a resumed sphere run's bar
starts where its steps stand and its rate counts this session's steps only (the earlier sessions' made the time left
far too small), a recipe draws each phase's steps on a bar, names a kinds phase's epochs of all and its starting
model as such (not "epoch 0, loss nan"), and a recipe stopped by Ctrl-C says where the same command goes on."""
from __future__ import annotations

import _thread
import re
import signal

import napari_particle_detect.learning.training as training
from napari_particle_detect.cli.main import main

from test_recipes import write

TINY = ["--batch-size", "2", "--crop", "32", "--threads", "1", "--device", "cpu"]

CHAINS_RECIPE = """
name = "{name}"
kind = "chains"

[validation]
images = 1
size = 64

[[phase]]
name = "heads"
epochs = 1
steps_per_epoch = 1
batch_size = 2
crop = 48

[[phase]]
name = "settle"
epochs = 2
steps_per_epoch = 1
batch_size = 2
crop = 48
"""


def test_a_resumed_sphere_runs_bar_starts_where_its_steps_stand_and_counts_this_sessions_rate(tmp_path, capsys):
    command = ["train", "-o", str(tmp_path / "s.pt"), "--steps-per-epoch", "12", *TINY]
    assert main(["-q", *command, "--epochs", "1"]) == 0
    capsys.readouterr()

    assert main([*command, "--epochs", "2", "--resume"]) == 0  # more epochs extend the run: its second
    err = capsys.readouterr().err
    counts = re.findall(r"\b(\d+)/24 \[", err)
    # It drew 0/24 and jumped to 13/24: the 12 steps of the first session counted in the rate.
    assert counts[0] == "13" and counts[-1] == "24", counts
    # ... which read, one step into the session, as some 100000 steps a second (an hour's run: 'about 0 s left').
    rates = [float(rate) for rate in re.findall(r"([\d.]+)step/s", err)]
    assert rates and max(rates) < 1000, rates


def test_a_sphere_recipe_draws_each_phases_steps_on_a_bar_of_its_own(tmp_path, capsys):
    recipe = write(tmp_path)  # test_recipes.RECIPE: phases "start" and "lower-lr", each of 2 epochs of 2 steps

    assert main(["recipe", str(recipe), "--threads", "1", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    for phase in ("start", "lower-lr"):
        assert re.search(rf"phase {phase}: 100%.*\b4/4 \[", err), err
        assert f"phase {phase}, epoch 2/2: loss" in err, err
    assert main(["-q", "recipe", str(recipe), "--threads", "1", "--device", "cpu"]) == 0  # done: nothing said
    assert capsys.readouterr() == ("", "")


def test_a_kind_recipe_says_its_phases_epochs_of_all_and_a_later_phases_starting_model(tmp_path, capsys):
    recipe = write(tmp_path, "chains-run", CHAINS_RECIPE)

    assert main(["recipe", str(recipe), "--threads", "1", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert "epoch 0" not in err and "nan" not in err, err
    assert "phase heads, epoch 1/1: loss" in err and "phase settle, epoch 2/2: loss" in err, err
    assert re.search(r"phase settle, starting model: validation score \d\.\d{4} at threshold", err), err


def test_a_recipe_stopped_by_ctrl_c_says_where_the_same_command_goes_on(tmp_path, capsys, monkeypatch):
    recipe = write(tmp_path)  # its first phase, "start", of 2 steps an epoch
    taken = []

    def take_step(*args, **kwargs):
        taken.append(1)
        if len(taken) == 1:  # Ctrl-C in the first step: the step ends, the run stops before the next
            _thread.interrupt_main(signal.SIGINT)
        return step(*args, **kwargs)

    step = training.take_step
    monkeypatch.setattr(training, "take_step", take_step)

    assert main(["recipe", str(recipe), "--threads", "1", "--device", "cpu"]) == 128 + signal.SIGINT
    last = capsys.readouterr().err.strip().splitlines()[-1]
    # It said "goes on where it stopped", though the recipe knew the step.
    assert last == (f"particle-detect: interrupted; the same command (recipe {recipe}) goes on at step 2 of epoch 1 "
                    "of phase 'start'"), last
