"""``rounds --export N -o NAME`` without .pt was refused ('NAME: the model must end in .pt') where ``train -o NAME``
writes NAME.pt: both add it now, and both refuse another ending in the same words."""

import shutil

import numpy as np
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.projects.kinds_project import open_kind_project
from napari_particle_detect.projects.project import RoundInfo
from napari_particle_detect.shipped import WEIGHTS_DIR

SAME_WORDS = "the model is written as NAME.pt (with NAME.json); give -o NAME or NAME.pt"


def rods_project(tmp_path):
    image = tmp_path / "img.tif"
    tifffile.imwrite(image, np.zeros((32, 32), np.uint16))
    project = open_kind_project("rods", image)
    workspace = project.new_workspace()
    for suffix in (".pt", ".json"):
        shutil.copyfile((WEIGHTS_DIR / "rods").with_suffix(suffix), workspace / f"model{suffix}")
    project.commit_round(workspace, RoundInfo(number=0, origin="test"), make_current=True)
    return project


def test_rounds_export_adds_pt_as_train_does(tmp_path, capsys):
    project = rods_project(tmp_path)
    name = tmp_path / "exported"
    assert main(["-q", "rounds", str(project.folder), "--export", "1", "-o", str(name)]) == 0
    assert name.with_suffix(".pt").is_file() and name.with_suffix(".json").is_file() and not name.exists()
    # The .pt written is the one the next export finds there.
    assert main(["-q", "rounds", str(project.folder), "--export", "1", "-o", str(name)]) == 2
    assert f"{name.with_suffix('.pt')}: already there; give --overwrite" in capsys.readouterr().err


def test_rounds_export_and_train_refuse_another_ending_alike(tmp_path, capsys):
    project = rods_project(tmp_path)
    other = tmp_path / "exported.model"
    assert main(["-q", "rounds", str(project.folder), "--export", "1", "-o", str(other)]) == 2
    exported = capsys.readouterr().err
    assert main(["-q", "train", "-o", str(other), "--epochs", "1"]) == 2
    trained = capsys.readouterr().err
    assert f"{other}: {SAME_WORDS}" in exported and f"{other}: {SAME_WORDS}" in trained
    assert not list(tmp_path.glob("exported*"))
