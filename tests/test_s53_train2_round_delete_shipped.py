"""``rounds --delete`` keeps a volume project's copy of the shipped model (origin ``shipped unet3d``), as it keeps a 2D
project's (``shipped``): it once deleted it, leaving its rounds' parent gone."""

import numpy as np

from napari_particle_detect.cli.main import main
from napari_particle_detect.learning.volume_rounds import ensure_volume_round, open_volume_project


def test_a_volume_projects_shipped_copy_is_not_deleted(tmp_path, capsys):
    project = open_volume_project(tmp_path / "v.tif", np.zeros((1, 8, 16, 16), np.float32))
    assert ensure_volume_round(project).origin == "shipped unet3d"
    project.import_model(project.round_path(1))  # round 2, in use: round 1 is not protected as the one in use
    assert main(["rounds", str(project.folder), "--delete", "1"]) == 2
    assert ("cannot delete round-001: it is a copy of a shipped model, kept for rounds to start from"
            in capsys.readouterr().err)
    assert [r.number for r in project.rounds] == [1, 2]
