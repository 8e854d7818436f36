"""A resumed run's card keeps the command that started it (its options) and the commands that resumed it: it once
kept only the last ``--resume`` command, so the card and every descendant's lineage lost how the run was made."""

import sys
from dataclasses import replace

from napari_particle_detect.cli.main import main
from napari_particle_detect.learning import training
from napari_particle_detect.learning.kinds_training import KindTrainConfig, train_kind
from napari_particle_detect.learning.training import lineage_with, train
from napari_particle_detect.models import load_model

from helpers import TINY

CHAINS = KindTrainConfig(kind="chains", epochs=2, steps_per_epoch=1, batch_size=2, crop=48, validation_images=1,
                         validation_size=48, threads=1)
STARTED = {"command": "particle-detect train -o m.pt --epochs 2 --minutes 5"}
RESUMED = {"command": "particle-detect train -o m.pt --epochs 2 --resume"}


def test_a_resumed_sphere_run_keeps_its_first_command_and_lists_each_resume(tmp_path):
    config = replace(TINY, epochs=2, time_limit_s=1e-6)  # stops after one step of each session
    train(config, out=tmp_path / "m", extra_card=STARTED)
    train(config, out=tmp_path / "m", resume=True, extra_card=RESUMED)
    result = train(replace(config, time_limit_s=None), out=tmp_path / "m", resume=True, extra_card=RESUMED)
    for record in (load_model(tmp_path / "m.pt").card.training, result.model.card.training):
        assert record["finished"] is True
        assert record["command"] == STARTED["command"]
        assert record["resumed_with"] == [RESUMED["command"]] * 2
    # A model fine-tuned from it keeps both in its lineage.
    ancestor = lineage_with(result.model.card.training)[-1]
    assert (ancestor["command"], ancestor["resumed_with"]) == (STARTED["command"], [RESUMED["command"]] * 2)


def test_a_resumed_kind_run_keeps_its_first_command(tmp_path):
    train_kind(replace(CHAINS, time_limit_s=1e-6), tmp_path / "c.pt", extra_card=STARTED)
    model = train_kind(CHAINS, tmp_path / "c.pt", resume=True, extra_card=RESUMED)
    for record in (load_model(tmp_path / "c.pt").card.training, model.card.training):
        assert record["finished"] is True
        assert (record["command"], record["resumed_with"]) == (STARTED["command"], [RESUMED["command"]])


def run(monkeypatch, capsys, *args: str) -> None:
    monkeypatch.setattr(sys, "argv", ["particle-detect", *args])  # the card's command is the one typed
    assert main(list(args)) == 0, capsys.readouterr().err


def test_the_command_line_card_names_the_options_the_run_started_with(tmp_path, capsys, monkeypatch):
    # Two validation images, not train's 24: each epoch's network passes over them were most of the test, and the
    # card's commands are the same.
    validation_set = training.synthetic_validation_set
    monkeypatch.setattr(training, "synthetic_validation_set",
                        lambda config: validation_set(replace(config, validation_images=2)))
    options = ["train", "-o", str(tmp_path / "m.pt"), "--epochs", "2", "--steps-per-epoch", "1", "--batch-size", "2",
               "--crop", "32", "--threads", "1", "--device", "cpu", "-q"]
    run(monkeypatch, capsys, *options, "--minutes", "0.000001")
    run(monkeypatch, capsys, *options, "--resume")
    record = load_model(tmp_path / "m.pt").card.training
    assert record["finished"] is True
    assert record["command"].endswith("--minutes 0.000001") and "--resume" not in record["command"]
    assert len(record["resumed_with"]) == 1 and record["resumed_with"][0].endswith("--resume")
