"""Models and resume states left by older versions (before runs recorded their best epoch, their progress and
the version that scored them): built here as those versions wrote them (f705753, 3d6af4f), never by their code."""

import json
import logging
import shutil
from dataclasses import replace

import numpy as np
import pytest
import torch

from napari_particle_detect import __version__, detect
from napari_particle_detect.learning.recipes import final_model_path, load_recipe, phase_files, run_recipe
from napari_particle_detect.learning.training import TrainConfig, read_training_state, resume_state_path, train
from napari_particle_detect.models import build_network
from napari_particle_detect.models.registry import ModelCard

from test_recipes import HEADER

CHANNELS = (4, 8)
QUICK = TrainConfig(epochs=4, steps_per_epoch=1, batch_size=2, crop=32, validation_images=1, validation_size=48,
                    threads=1, device="cpu", channels=CHANNELS)
# What the older versions' cards held: no spatial_dims, kind nor heads yet, and a run's training record written
# only at its end (a model saved mid-run carried an empty one, or, fine-tuned, its parent's).
OLD_CARD = {"architecture": "unet", "channels": list(CHANNELS), "sigma": 1.5, "threshold": 0.4, "min_distance": 2,
            "normalisation": "percentile 1-99.8 per frame", "trained_diameter_range": [7.0, 18.0],
            "canonical_diameter": 15.3, "criterion": None, "candidate_floor": 0.05, "training": {}}


def old_network(steps: int = 3) -> tuple[torch.nn.Module, dict, dict]:
    """A network some steps into an old run, with its Adam optimiser's and schedule's states."""
    torch.manual_seed(0)
    network = build_network(ModelCard(channels=CHANNELS))
    optimiser = torch.optim.Adam(network.parameters(), lr=QUICK.learning_rate)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 1.0)
    for _ in range(steps):
        optimiser.zero_grad()
        network(torch.rand(2, 1, 32, 32)).square().mean().backward()
        optimiser.step()
        scheduler.step()
    return network, optimiser.state_dict(), scheduler.state_dict()


def write_old_run(out, f1s: list[float], training: dict | None = None) -> None:
    """An old run stopped after its last epoch of ``f1s`` (the first is epoch 0, the starting model's, where it is
    fine-tuning: ``training`` then its parent's record): its resume state, and its model saved at ``out`` (as by an
    epoch that beat the start), as those versions wrote them."""
    network, optimiser, scheduler = old_network()
    first = 0 if training is not None else 1
    history = [{"event": "epoch", "epoch": epoch, "epochs": QUICK.epochs, "loss": 0.2, "val_f1": f1,
                "seconds": 3.0 * epoch} for epoch, f1 in enumerate(f1s, start=first)]
    weights = {k: v.detach().clone() for k, v in network.state_dict().items()}
    torch.save({"network": weights, "optimiser": optimiser, "scheduler": scheduler, "epoch": len(f1s) - 1 + first,
                "best_f1": max(f1s), "history": history}, resume_state_path(out))
    torch.save(weights, out)
    out.with_suffix(".json").write_text(json.dumps({**OLD_CARD, "training": training or {}}, indent=2))


@pytest.mark.parametrize("fine_tuned, f1s, best", [
    (False, [0.90, 0.95, 0.93], 2),  # the audit's: the card said 3, the last epoch
    (True, [0.90, 0.95, 0.95, 0.70], 1),  # a tie keeps the first, as training does; epoch 0 is the start
])
def test_an_old_run_resumed_keeps_the_best_epoch_its_history_tells(tmp_path, caplog, fine_tuned, f1s, best):
    torch.set_num_threads(1)
    out, init = tmp_path / "partial.pt", None
    if fine_tuned:
        init = tmp_path / "parent.pt"
        torch.save(old_network(0)[0].state_dict(), init)
        init.with_suffix(".json").write_text(json.dumps({**OLD_CARD, "training": {"command": "train"}}))
    write_old_run(out, f1s, training={"command": "train"} if fine_tuned else None)

    with caplog.at_level(logging.WARNING):
        result = train(QUICK, init=init, out=out, resume=True)

    record = json.loads(out.with_suffix(".json").read_text())["training"]
    assert record["best_epoch"] == best and record["finished"] and record["history"][-1]["epoch"] == 4
    assert next(h for h in result.history if h["epoch"] == best)["val_f1"] == max(f1s)
    said = [r.getMessage() for r in caplog.records if "resumed by" in r.getMessage()]
    assert said == [f"{resume_state_path(out)}: started by an older version (unrecorded), resumed by version "
                    f"{__version__}: scores of earlier epochs came from the decoder of an older version (unrecorded)"]


def test_a_run_records_its_version_and_a_resume_says_when_another_scored_its_epochs(tmp_path, caplog):
    torch.set_num_threads(1)
    out = tmp_path / "run.pt"
    train(replace(QUICK, epochs=1), out=out)
    state = read_training_state(resume_state_path(out))
    assert state["version"] == __version__ and [h["version"] for h in state["history"]] == [__version__]

    with caplog.at_level(logging.WARNING):
        train(replace(QUICK, epochs=2), out=out, resume=True)
    assert not [r for r in caplog.records if "resumed by" in r.getMessage()]  # the same version: nothing to say

    state = read_training_state(resume_state_path(out))
    state["history"] = [{**h, "version": "0.0.1"} for h in state["history"]]
    torch.save(state, resume_state_path(out))
    with caplog.at_level(logging.WARNING):
        train(replace(QUICK, epochs=3), out=out, resume=True)
    said = [r.getMessage() for r in caplog.records if "resumed by" in r.getMessage()]
    assert said == [f"{resume_state_path(out)}: started by version 0.0.1, resumed by version {__version__}: scores "
                    "of earlier epochs came from the decoder of version 0.0.1"]
    history = json.loads(out.with_suffix(".json").read_text())["training"]["history"]
    assert [h["version"] for h in history] == ["0.0.1", "0.0.1", __version__]


RECIPE = HEADER.format(name="old") + """
[[phase]]
name = "one"
epochs = 2
steps_per_epoch = 1
batch_size = 2
crop = 32
"""


def test_an_old_paused_recipe_resumes_saying_so_and_its_phases_record_the_version(tmp_path, caplog):
    torch.set_num_threads(1)
    path = tmp_path / "old.toml"
    path.write_text(RECIPE)
    recipe = load_recipe(path)
    model_file, done_file = phase_files(recipe, 0)
    model_file.parent.mkdir(parents=True)
    write_old_run(model_file, [0.9])  # paused after epoch 1 of 2, before phases kept a .started.json

    with caplog.at_level(logging.WARNING):
        status = run_recipe(path, threads=1)

    assert status.model == final_model_path(recipe)
    said = [r.getMessage() for r in caplog.records if "resumed by" in r.getMessage()]
    assert said == [f"{resume_state_path(model_file)}: started by an older version (unrecorded), resumed by version "
                    f"{__version__}: scores of earlier epochs came from the decoder of an older version (unrecorded)"]
    assert json.loads(done_file.read_text())["version"] == __version__
    training = json.loads(status.model.with_suffix(".json").read_text())["training"]
    assert training["lineage"][-1]["version"] == __version__
    phase_history = json.loads(model_file.with_suffix(".json").read_text())["training"]["history"]
    assert [h.get("version") for h in phase_history] == [None, __version__]


def test_detect_warns_of_an_old_model_saved_mid_run_only_where_its_resume_state_lies_beside_it(tmp_path, caplog):
    torch.set_num_threads(1)
    model = tmp_path / "partial2.pt"
    write_old_run(model, [0.11])  # killed in epoch 2 of 4: its card's training record is still empty
    kept = tmp_path / "kept.pt"  # the same card with no state beside it: a model made by hand, or exported
    shutil.copy(model, kept)
    shutil.copy(model.with_suffix(".json"), kept.with_suffix(".json"))
    image = np.random.default_rng(0).random((48, 48), dtype=np.float32)

    with caplog.at_level(logging.WARNING):
        for name in (model, model, kept):
            detect(image, model=str(name), device="cpu", diameter=8)

    said = [r.getMessage() for r in caplog.records if "resume the training" in r.getMessage()]
    assert said == [f"{model}: saved mid-run by an older version (its card has no training record, and "
                    "partial2.state.pt, the run's resume state, lies beside it); it detects as trained so far: "
                    "resume the training to finish it"]
