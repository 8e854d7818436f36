"""train and rounds as a user reads them: a time limit inside an epoch leaves the bar at the step it stopped at
(it jumped to the epoch's end), --synthetic-fraction's help names a rods or chains round's share, and rounds of a
chains project names the score it lists (the mean of bead F1 and bond F1, not F1) with no line ending in spaces."""
from __future__ import annotations

import re
from dataclasses import replace

import pytest

from napari_particle_detect.cli.main import main
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.kinds_rounds import KIND_ROUND, train_kind_round
from napari_particle_detect.projects.kinds_project import accept_kind_frame, open_kind_project
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains

from helpers import reviewed_project


def test_a_time_limit_inside_an_epoch_leaves_the_bar_at_the_step_it_stopped_at(tmp_path, capsys):
    # A limit below one step's time: the run stops after the first of its 4 steps.
    code = main(["train", "-o", str(tmp_path / "m.pt"), "--epochs", "2", "--steps-per-epoch", "2", "--batch-size",
                 "2", "--crop", "32", "--threads", "1", "--minutes", "1e-6"])

    said = capsys.readouterr()
    assert code == 0
    assert "after 1 of 4 steps" in said.err, said.err
    assert re.findall(r"\b(\d)/4 \[", said.err)[-1] == "1", said.err  # the bar's last state
    assert "epoch 1/2 (1 of 2 steps): loss" in said.err, said.err


def test_train_says_its_epochs_on_stderr_and_not_at_all_with_quiet(tmp_path, capsys):
    command = ["train", "-o", str(tmp_path / "m.pt"), "--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "2",
               "--crop", "32", "--threads", "1"]

    assert main(command) == 0
    said = capsys.readouterr()
    assert said.out == "" and "epoch 1/1: loss" in said.err, said
    assert main(["-q", *command, "--overwrite"]) == 0
    assert capsys.readouterr() == ("", "")


def test_a_kind_trainings_epoch_its_time_limit_cut_says_how_many_steps_it_ran(tmp_path, capsys):
    code = main(["train", "--kind", "chains", "-o", str(tmp_path / "c.pt"), "--epochs", "1", "--steps-per-epoch", "3",
                 "--batch-size", "2", "--crop", "48", "--threads", "1", "--device", "cpu", "--minutes", "1e-6"])

    assert code == 0
    assert "epoch 1/1 (1 of 3 steps): loss" in capsys.readouterr().err


def test_the_synthetic_fraction_help_names_each_rounds_share(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])

    said = " ".join(capsys.readouterr().out.split())
    assert f"a fine-tuning round {FINE_TUNE.synthetic_fraction:g}" in said
    assert f"a rods or chains round {KIND_ROUND.synthetic_fraction:g}" in said


def test_rounds_of_a_chains_project_names_its_score_and_no_line_ends_in_spaces(project_home, capsys):
    sample = synthesize_chains(benchmark_chain_config("fluorescent", 0.2, shape=(96, 96)), seed=5)
    stack = sample.image[None]
    project = open_kind_project("chains", name="beads", data=stack)
    accept_kind_frame(project, 0, sample.table.assign(score=0.9, source="model"))
    train_kind_round(project, stack, replace(KIND_ROUND, steps_per_epoch=2, batch_size=2, crop=48, threads=1), "cpu")
    project.set_current_round(2)  # the shipped round 001: no verdict, not in use

    assert main(["rounds", str(project.folder)]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("round  from") and "held-out score before/after" in lines[0], lines
    assert "score: the mean of bead F1 and bond F1 on the held-out tiles" in lines[-1], lines
    assert [line for line in lines if line != line.rstrip()] == []
    assert lines[2].endswith("(in use)") and lines[2].startswith("002"), lines


def test_rounds_says_what_opening_the_project_found_in_one_line_not_as_a_python_warning(tmp_path, capsys):
    project, _ = reviewed_project(tmp_path)
    left = project.folder / "rounds" / ".building-killed"  # a round's work its killed process never added
    left.mkdir(parents=True)
    (left / "model.pt").write_bytes(b"half")

    assert main(["rounds", str(project.folder)]) == 0

    err = capsys.readouterr().err
    assert f"{project.folder / 'rounds'}: an interrupted round's work (.building-killed) was discarded" in err, err
    assert "UserWarning" not in err and "project.py" not in err, err
