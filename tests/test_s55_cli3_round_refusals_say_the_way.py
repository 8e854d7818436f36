"""``rounds``' refusals say what to give instead: the rounds there are for a number the project lacks, the project
folder inside the images' folder given for it, and how another round is put in use when the project itself refuses
deleting the one in use (it said only "switch to another round first", and ``rounds`` has no way to switch)."""

from __future__ import annotations

import pytest

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.models.registry import default_model_path
from napari_particle_detect.projects.project import Project


def _project_of_two_rounds(tmp_path) -> Project:
    project = Project.open(tmp_path / "img.tif", n_frames=1)
    project.ensure_initial_round(default_model_path())
    project.import_model(default_model_path())  # round 2, in use
    return project


def test_a_round_the_project_lacks_is_refused_with_the_rounds_it_has(tmp_path, capsys):
    project = _project_of_two_rounds(tmp_path)
    (tmp_path / "old.pt").write_bytes(b"")  # an -o already there: the round it lacks is said first, not --overwrite
    for action in (["--delete", "9"], ["--export", "9", "-o", str(tmp_path / "m.pt")],
                   ["--export", "9", "-o", str(tmp_path / "old.pt")]):
        assert main(["rounds", str(project.folder), *action]) == 2
        assert capsys.readouterr().err.strip() == (
            f"particle-detect: error: {project.folder}: no model round 9 (rounds: 1, 2)")


def test_the_images_folder_given_for_its_project_names_the_project_folder(tmp_path, capsys):
    project = _project_of_two_rounds(tmp_path)
    assert main(["rounds", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"particle-detect: error: {tmp_path}: no review project there")
    assert err.endswith(f"; it holds {project.folder}: give that folder") and "\n" not in err


def test_the_project_refuses_deleting_its_round_in_use_saying_how_to_switch(tmp_path):
    project = _project_of_two_rounds(tmp_path)
    assert project.current_round.number == 2
    # The round put in use after round_files.deletable's check: the project's own refusal speaks.
    with pytest.raises(ParticleDetectError) as refused:
        project.delete_round(2)
    assert str(refused.value) == ("cannot delete round-002: it is the round in use; switch to another round first "
                                  "(double-click it in the napari dock's rounds table)")
