"""train --from's round on the command line, and a round's export: what they say and where they refuse to write."""

import pytest

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.models.registry import default_model_path
from napari_particle_detect.projects.project import Project
from napari_particle_detect.projects.round_files import export_round

from helpers import tiny_model_file
from test_finetune import SHORT, _two_pairs


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("model"))


def test_a_round_fine_tune_refuses_shows_no_empty_progress_bar(tmp_path, tiny_model, capsys):
    data = _two_pairs(tmp_path / "data")
    # Validated on its own training files: refused by fine_tune itself, after the command's own checks.
    code = main(["train", str(data), "--from", str(tiny_model), "-o", str(tmp_path / "m"), "--validate", str(data),
                 *SHORT])
    err = capsys.readouterr().err
    assert code == 2
    assert "step" not in err and err.splitlines()[-1].startswith("particle-detect: error: "), err  # no bar


def test_a_round_is_not_exported_inside_its_project(tmp_path):
    project = Project.open(tmp_path / "img.tif", n_frames=1)
    project.ensure_initial_round(default_model_path())
    for inside in (project.folder / "r1.pt", project.folder / "models" / "r1"):
        with pytest.raises(ParticleDetectError, match=f"inside the napari project {project.folder}"):
            export_round(project, 1, inside)
    assert not list(project.folder.rglob("r1*"))
    assert export_round(project, 1, tmp_path / "r1.pt") == tmp_path / "r1.pt"
