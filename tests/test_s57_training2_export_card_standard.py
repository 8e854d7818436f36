"""``rounds --export`` of an older project's round (its card copied from a shipped model while cards wrote the loss of
the untrained epoch 0 as NaN) wrote that NaN on into the exported card, which JavaScript's JSON.parse, R's jsonlite
and Python's json refusing NaN cannot read: an export is written as any saved card is, NaN as null."""

import json
import re
import shutil

import numpy as np
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.projects.kinds_project import open_kind_project
from napari_particle_detect.projects.project import RoundInfo
from napari_particle_detect.shipped import WEIGHTS_DIR


def refuse(constant: str):
    raise ValueError(f"{constant} is not JSON")


def older_rods_project(tmp_path):
    """A rods project whose round 1 is the shipped model with its card as older versions wrote it (NaN)."""
    image = tmp_path / "img.tif"
    tifffile.imwrite(image, np.zeros((32, 32), np.uint16))
    project = open_kind_project("rods", image)
    workspace = project.new_workspace()
    shutil.copyfile(WEIGHTS_DIR / "rods.pt", workspace / "model.pt")
    card, count = re.subn(r'"loss": null', '"loss": NaN', (WEIGHTS_DIR / "rods.json").read_text("utf-8"))
    assert count >= 1
    (workspace / "model.json").write_text(card, "utf-8")
    project.commit_round(workspace, RoundInfo(number=0, origin="test"), make_current=True)
    return project


def test_an_exported_older_round_has_a_standard_card(tmp_path):
    project = older_rods_project(tmp_path)
    exported = tmp_path / "exported.pt"
    assert main(["-q", "rounds", str(project.folder), "--export", "1", "-o", str(exported)]) == 0
    card = json.loads(exported.with_suffix(".json").read_text("utf-8"), parse_constant=refuse)
    assert card["training"]["history"][0]["loss"] is None
    # The shipped card but for the export's note: only NaN was rewritten.
    card["training"].pop("exported")
    assert card == json.loads((WEIGHTS_DIR / "rods.json").read_text("utf-8"), parse_constant=refuse)
