"""Rods and chains training as a user reads it: each epoch's line names the run's epochs ("epoch 1/2", as the
spheres' do), the steps run on a progress bar with the time left (none with -q), a resumed run's bar starts where
its steps do, a round names its starting model's score as such (not "epoch 0: loss nan") and says when that model
is the one saved, and a recipe stopped by Ctrl-C says where running it again goes on."""
from __future__ import annotations

import _thread
import re
import signal
from dataclasses import replace

import pytest

from napari_particle_detect.cli.main import main
from napari_particle_detect.learning import kinds_training
from napari_particle_detect.learning.kinds_training import KindTrainConfig
from napari_particle_detect.learning.recipes import run_recipe
from napari_particle_detect.detection.kinds_prediction import shipped_model_path

from helpers import TINY_CHAINS_RECIPE
from test_recipes import write

TINY = ["--batch-size", "2", "--crop", "48", "--threads", "1", "--device", "cpu"]

CHAINS_RECIPE = TINY_CHAINS_RECIPE


def two_validation_images(monkeypatch) -> None:
    """Kind runs validated on two images, not train's 8 of 192 px: scoring them each epoch was most of a run of a
    few steps; their lines and bars are the same."""
    validation_set = kinds_training.validation_set
    monkeypatch.setattr(kinds_training, "validation_set",
                        lambda kind, config: validation_set(kind, replace(config, validation_images=2)))


def test_a_kind_run_says_each_epoch_of_all_and_draws_its_steps_on_a_bar(tmp_path, capsys, monkeypatch):
    two_validation_images(monkeypatch)
    command = ["train", "--kind", "chains", "-o", str(tmp_path / "c.pt"), "--epochs", "2", "--steps-per-epoch", "2",
               *TINY]

    assert main(command) == 0
    said = capsys.readouterr()
    assert said.out == "" and "epoch 1/2: loss" in said.err and "epoch 2/2: loss" in said.err, said.err
    assert re.findall(r"\b(\d)/4 \[", said.err)[-1] == "4", said.err  # the bar, full at the end
    assert main(["-q", *command, "--overwrite", "--epochs", "1", "--steps-per-epoch", "1"]) == 0
    assert capsys.readouterr() == ("", "")


def test_a_resumed_kind_runs_bar_starts_where_its_steps_do(tmp_path, capsys, monkeypatch):
    two_validation_images(monkeypatch)
    command = ["train", "--kind", "chains", "-o", str(tmp_path / "c.pt"), "--epochs", "1", "--steps-per-epoch", "3",
               *TINY]
    assert main([*command, "--minutes", "1e-6"]) == 0  # stops after its first step
    assert "epoch 1/1 (1 of 3 steps): loss" in capsys.readouterr().err

    assert main([*command, "--resume"]) == 0
    bar = re.findall(r"\b(\d)/3 \[", capsys.readouterr().err)
    # Its first step this session is the run's second: counted done, as the one before it.
    assert bar[0] == "2" and bar[-1] == "3", bar


def test_a_kind_round_names_its_starting_models_score_and_says_when_that_model_is_kept(tmp_path, capsys):
    # The shipped model at a learning rate too small to improve it: the epoch scores below the start.
    command = ["train", "--kind", "chains", "--from", str(shipped_model_path("chains")), "-o", str(tmp_path / "r.pt"),
               "--epochs", "1", "--steps-per-epoch", "1", "--lr", "1e-9", *TINY]

    assert main(command) == 0
    err = capsys.readouterr().err
    assert "epoch 0" not in err and "nan" not in err, err
    start = re.search(r"starting model: validation score (\d\.\d{4}) at threshold", err)
    assert start, err
    scored_on = f"on {KindTrainConfig().validation_images} generator images"
    assert f"validation score {start[1]} {scored_on}; the starting model's: no epoch beat it)" in err, err


def interrupt_at(wanted):
    """A recipe's progress callback that presses Ctrl-C (Python's own delivery of a SIGINT to the main thread, as
    tests/test_training_audit.py does) at the first record ``wanted`` takes."""
    pressed = []

    def progress(record: dict) -> None:
        if not pressed and wanted(record):
            pressed.append(record)
            _thread.interrupt_main(signal.SIGINT)

    return progress


def test_a_kind_recipe_stopped_by_ctrl_c_says_where_it_goes_on(tmp_path):
    recipe = write(tmp_path, "chains-run", CHAINS_RECIPE)

    with pytest.raises(KeyboardInterrupt, match=r"^at epoch 2 of phase 'heads'$"):
        run_recipe(recipe, threads=1, device="cpu", progress=interrupt_at(lambda r: r.get("event") != "step" and r.get("epoch") == 1))


def test_a_sphere_recipe_stopped_by_ctrl_c_inside_an_epoch_says_which_step_it_goes_on_at(tmp_path):
    recipe = write(tmp_path)  # test_recipes.RECIPE: its first phase, "start", of 2 steps an epoch

    with pytest.raises(KeyboardInterrupt, match=r"^at step 2 of epoch 1 of phase 'start'$"):
        run_recipe(recipe, threads=1, device="cpu",
                   progress=interrupt_at(lambda r: r.get("event") == "step" and r["step"] == 1))


def test_a_kind_round_from_the_command_line_draws_its_steps_on_a_bar(tmp_path, capsys):
    # As train's sphere round does: the kinds' round showed nothing from its start to its verdict.
    assert main(["-q", "synth", str(tmp_path / "data"), "--kind", "chains", "--n", "1", "--shape", "96", "96"]) == 0
    def round_into(name: str) -> list[str]:
        return ["train", "--kind", "chains", str(tmp_path / "data"), "--from", str(shipped_model_path("chains")),
                "-o", str(tmp_path / name), "--epochs", "1", "--steps-per-epoch", "2", *TINY]

    assert main(round_into("round.pt")) == 0
    err = capsys.readouterr().err
    assert re.search(r"training: 100%.*\b2/2 \[", err) and "-> " in err, err
    assert main(["-q", *round_into("quiet.pt")]) == 0
    assert capsys.readouterr() == ("", "")
