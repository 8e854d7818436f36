"""A shipped model's digest, which every output's fingerprint records, covers what it detects with, not its card's
training record: a new version rewriting only that record (NaN written as null) leaves a folder's outputs finished,
and outputs recorded under an earlier version's digest of the same model are not detected again."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from napari_particle_detect.shipped import WEIGHTS_DIR, model_digest

from test_cli_refusals import run_cli
from test_distributed import write_images


def _copy_of_unet(folder: Path) -> Path:
    for suffix in (".pt", ".json"):
        shutil.copy(WEIGHTS_DIR / f"unet{suffix}", folder / f"unet{suffix}")
    return folder / "unet.pt"


def _rewrite_card(weights: Path, change) -> None:
    card_file = weights.with_suffix(".json")
    card = json.loads(card_file.read_text())
    change(card)
    card_file.write_text(json.dumps(card, indent=3))


def test_a_card_rewritten_in_its_training_record_only_is_the_same_model(tmp_path):
    weights = _copy_of_unet(tmp_path)
    before = model_digest(weights)
    _rewrite_card(weights, lambda card: card["training"].update(note="written again", history=[{"loss": None}]))
    assert model_digest(weights) == before
    _rewrite_card(weights, lambda card: card.update(threshold=card["threshold"] / 2))  # detects otherwise
    assert model_digest(weights) != before


# The shipped unet's weights, and the digest versions before 2026-12-07 recorded of them with their card of then
# (its epoch 0 loss written NaN): the card rewritten since, the model detects as it did.
UNET_WEIGHTS_SHA256 = "49dc08d7b791032b82578cd5b0ee40c42c52d4c82e0f5d0abfe8b31e47dd0372"
UNET_WITH_NAN_CARD = "42b5d3bd8c04823fe1e62aa7f00c0353b33974780297dc1bb2ffd2158e5d0e98"


def _record_model_digest(output: Path, digest: str) -> None:
    meta = json.loads(output.with_suffix(".json").read_text())
    meta["fingerprint"]["model"]["sha256"] = digest
    output.with_suffix(".json").write_text(json.dumps(meta, indent=2))


def test_outputs_recorded_under_an_earlier_digest_of_the_shipped_model_are_not_detected_again(tmp_path, capsys,
                                                                                             monkeypatch):
    if hashlib.sha256((WEIGHTS_DIR / "unet.pt").read_bytes()).hexdigest() != UNET_WEIGHTS_SHA256:
        pytest.skip("the shipped unet was trained again since: its earlier outputs are another model's")
    monkeypatch.chdir(tmp_path)
    write_images(Path("data"), 3)
    options = ("--device", "cpu", "--diameter", "12", "--runtime", "torch")
    assert run_cli(capsys, "detect", "data/", "-o", "res/", *options)[0] == 0
    # As the version before this one recorded the same files: the digest of their bytes.
    bytes_now = hashlib.sha256(b"".join((WEIGHTS_DIR / f"unet{suffix}").read_bytes() for suffix in (".pt", ".json")))
    _record_model_digest(Path("res/image_00.csv"), UNET_WITH_NAN_CARD)
    _record_model_digest(Path("res/image_01.csv"), bytes_now.hexdigest())
    _record_model_digest(Path("res/image_02.csv"), "0" * 64)  # another model of that name
    assert run_cli(capsys, "detect", "data/", "-o", "res/", *options)[0] == 0
    record = json.loads(Path("res/particle-detect-run.json").read_text())
    assert [Path(entry["file"]).name for entry in record["skipped"]] == ["image_00.tif", "image_01.tif"]
    assert [Path(entry["file"]).name for entry in record["done"]] == ["image_02.tif"]
