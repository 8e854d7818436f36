"""The committed recipe runs' cards and phase records are standard JSON: the loss of a card's epoch 0 (the starting
model, never trained) was written NaN, which JavaScript's JSON.parse, R's jsonlite and Python's json refusing NaN
cannot read; new cards write it null (registry.card_json). Each card still reads as a model card."""

import json
from pathlib import Path

import pytest

from napari_particle_detect.models.registry import read_card

ROOT = Path(__file__).resolve().parents[1]
# The recipes' runs, and the cards kept of the models shipped before (weights/history).
FILES = sorted((ROOT / "recipes" / "runs").glob("*/*.json")) + sorted((ROOT / "weights" / "history").glob("*.json"))
CARDS = [path for path in FILES if path.parent.parent.name == "runs"
         and not path.name.endswith((".done.json", ".started.json"))]


def refuse(constant: str):
    raise ValueError(f"{constant} is not JSON")


@pytest.mark.parametrize("path", FILES, ids=[f"{path.parent.name}/{path.name}" for path in FILES])
def test_every_committed_run_file_is_standard_json(path):
    json.loads(path.read_text("utf-8"), parse_constant=refuse)


@pytest.mark.parametrize("path", CARDS, ids=[f"{path.parent.name}/{path.name}" for path in CARDS])
def test_every_committed_run_card_reads_with_its_untrained_loss_null(path):
    history = read_card(path).training.get("history", [])
    assert history and all(record.get("loss") is None or isinstance(record["loss"], float) for record in history)
