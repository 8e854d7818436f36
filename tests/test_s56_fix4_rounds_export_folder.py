"""``rounds --export N -o DIR/``: argparse's Path dropped the '/', and the folder the user named was refused as a
model without .pt ('DIR: the model must end in .pt'); it is refused as a folder, as train -o DIR/ is."""

import os
import shutil

import numpy as np
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.projects.kinds_project import open_kind_project
from napari_particle_detect.projects.project import RoundInfo
from napari_particle_detect.shipped import WEIGHTS_DIR


def test_rounds_export_to_a_folder_named_with_a_trailing_separator_is_refused_as_a_folder(tmp_path, capsys):
    image = tmp_path / "img.tif"
    tifffile.imwrite(image, np.zeros((32, 32), np.uint16))
    project = open_kind_project("rods", image)
    workspace = project.new_workspace()
    for suffix in (".pt", ".json"):
        shutil.copyfile((WEIGHTS_DIR / "rods").with_suffix(suffix), workspace / f"model{suffix}")
    project.commit_round(workspace, RoundInfo(number=0, origin="test"), make_current=True)
    folder = tmp_path / "models"

    assert main(["-q", "rounds", str(project.folder), "--export", "1", "-o", f"{folder}{os.sep}"]) == 2
    assert f"{folder}{os.sep}: is a folder; name the model inside it, e.g. {folder / 'model.pt'}" in \
        capsys.readouterr().err
    assert not folder.exists() and not folder.with_suffix(".pt").exists()
    folder.mkdir()
    assert main(["-q", "rounds", str(project.folder), "--export", "1", "-o", str(folder)]) == 2
    assert f"{folder}: is a folder; name the model inside it" in capsys.readouterr().err
    assert main(["-q", "rounds", str(project.folder), "--export", "1", "-o", str(folder / "model.pt")]) == 0
    assert (folder / "model.pt").exists() and (folder / "model.json").exists()
