"""A model card is standard JSON: the starting model's epoch 0 (never trained, so no loss) was written as NaN, which
only Python and jq read; JavaScript's JSON.parse, R's jsonlite and a strict Python parser refused the whole card."""

import json
from dataclasses import replace

import pytest
import torch

from napari_particle_detect.models import load_model
from napari_particle_detect.models.registry import copy_model
from napari_particle_detect.learning.training import train

from helpers import TINY


def strict_json(path) -> dict:
    def refuse(constant: str):
        raise ValueError(f"{path.name}: {constant} is not JSON")

    return json.loads(path.read_text(), parse_constant=refuse)


@pytest.fixture(scope="module")
def fine_tuned(tmp_path_factory):
    """A run from a starting model, whose card's history begins with that model as epoch 0."""
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("cards")
    config = replace(TINY, steps_per_epoch=1, validation_images=1, validation_size=48)
    start = train(config, out=folder / "start").path
    return train(config, init=start, out=folder / "tuned").path


def test_a_fine_tuned_models_card_is_standard_json(fine_tuned):
    card = strict_json(fine_tuned.with_suffix(".json"))
    first = card["training"]["history"][0]
    assert first["epoch"] == 0 and first["loss"] is None
    assert load_model(fine_tuned, "cpu").card.training["history"][0]["loss"] is None  # and it loads as before


def test_a_copy_of_a_fine_tuned_model_exports_a_standard_json_card(fine_tuned, tmp_path):
    # rounds --export copies a round's files: the card as saved (a shipped card's NaN stays, so a project's copy of
    # a shipped model is still told from this version's by its card).
    copied = copy_model(fine_tuned, tmp_path / "copy.pt", note={"exported": "by a test"})
    assert strict_json(copied.with_suffix(".json"))["training"]["exported"] == "by a test"
