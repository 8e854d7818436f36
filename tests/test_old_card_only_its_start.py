"""A model an older version saved before a fine-tuning's first epoch ended (its card's history holds epoch 0 alone,
the starting model's score) warns when detect loads it; no shipped or recipe model does."""

import json
import logging
from pathlib import Path

import pytest

from napari_particle_detect.models.registry import ModelCard, _unfinished_said, warn_unfinished_training

REPO = Path(__file__).parents[1]


def old_card(history: list[dict], epochs: int = 100) -> ModelCard:
    """A rods card as commit a2661bb wrote it when its fine-tuning was killed in its first epoch."""
    return ModelCard(kind="rods", training={"config": {"kind": "rods", "epochs": epochs, "steps_per_epoch": 10},
                                            "validation_score": 0.52, "history": history,
                                            "init": "old/weights/rods.pt"})


def test_a_card_whose_history_holds_only_its_start_warns_once(caplog):
    _unfinished_said.clear()
    card = old_card([{"epoch": 0, "loss": float("nan"), "score": 0.52, "threshold": 0.5, "seconds": 0.0}])
    with caplog.at_level(logging.WARNING):
        warn_unfinished_training(card, "models/rods_round.pt")
        warn_unfinished_training(card, "models/rods_round.pt")
    assert [r.getMessage() for r in caplog.records] == [
        "models/rods_round.pt: saved by an older version before the first of its 100 epochs ended (its history holds "
        "only epoch 0, the model it started from); it detects as the model it started from: train it again to have "
        "the fine-tuned one"]


def test_a_card_that_trained_an_epoch_or_records_no_plan_does_not_warn(caplog):
    _unfinished_said.clear()
    with caplog.at_level(logging.WARNING):
        warn_unfinished_training(old_card([{"epoch": 0, "score": 0.5}, {"epoch": 1, "score": 0.6}]), "a.pt")
        warn_unfinished_training(ModelCard(kind="rods", training={"history": [{"epoch": 0, "score": 0.5}]}), "b.pt")
    assert caplog.records == []


@pytest.mark.parametrize("card_path", sorted(map(str, [*(REPO / "napari_particle_detect" / "weights").glob("*.json"),
                                                       *(REPO / "recipes" / "runs").glob("*/model.json")])))
def test_no_shipped_or_recipe_model_warns(card_path, caplog):
    _unfinished_said.clear()
    training = json.loads(Path(card_path).read_text()).get("training")
    with caplog.at_level(logging.WARNING):
        warn_unfinished_training(ModelCard(training=training), str(Path(card_path).with_suffix(".pt")))
    assert caplog.records == []
