"""The shipped cards are standard JSON (their epoch 0's loss null, as new cards write it; NaN broke JavaScript's
JSON.parse and R's jsonlite), and a project's copy of a shipped model is told from this version's without leaning
on NaN: a round-001 copied while the card held NaN is still today's model, one that holds null too."""

import json
import re
import shutil

import pytest

from napari_particle_detect.projects.shipped_rounds import same_saved_model
from napari_particle_detect.shipped import WEIGHTS_DIR

CARDS = sorted(WEIGHTS_DIR.glob("*.json"))


def refuse(constant: str):
    raise ValueError(f"{constant} is not JSON")


@pytest.mark.parametrize("card", CARDS, ids=[card.stem for card in CARDS])
def test_every_shipped_card_is_standard_json(card):
    loaded = json.loads(card.read_text("utf-8"), parse_constant=refuse)
    history = loaded.get("training", {}).get("history", [])
    assert all(record.get("loss") is None or isinstance(record["loss"], float) for record in history)


@pytest.mark.parametrize("written", ["NaN", "null"])
def test_a_copy_whose_card_writes_the_untrained_loss_either_way_is_todays_model(tmp_path, written):
    shipped = WEIGHTS_DIR / "rods.pt"
    copy = tmp_path / "model.pt"
    shutil.copyfile(shipped, copy)
    text = shipped.with_suffix(".json").read_text("utf-8")
    copied, count = re.subn(r'"loss": (NaN|null)', f'"loss": {written}', text)
    assert count >= 1  # the card's epoch 0: the starting model, never trained
    copy.with_suffix(".json").write_text(copied, "utf-8")
    assert same_saved_model(copy, shipped)
    # Another threshold is another model still.
    card = json.loads(copied, parse_constant=lambda constant: None)
    card["threshold"] = card["threshold"] + 0.05
    copy.with_suffix(".json").write_text(json.dumps(card), "utf-8")
    assert not same_saved_model(copy, shipped)
