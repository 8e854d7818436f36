"""``rounds --delete`` of the round in use says why in a sentence: it once read "cannot delete round-001: is the round
in use", its subject cut off."""

from napari_particle_detect.cli.main import main

from helpers import reviewed_project


def test_deleting_the_round_in_use_says_it_is_in_use(tmp_path, capsys):
    reviewed_project(tmp_path)
    assert main(["rounds", str(tmp_path / "img.tif"), "--delete", "1"]) == 2
    assert "cannot delete round-001: it is the round in use; switch to another round first" in capsys.readouterr().err


def test_the_project_itself_refuses_deleting_its_round_in_use_in_the_same_words(tmp_path):
    import pytest

    from napari_particle_detect.errors import ParticleDetectError

    project, _ = reviewed_project(tmp_path)
    with pytest.raises(ParticleDetectError, match=r"^cannot delete round-001: it is the round in use; switch to "):
        project.delete_round(1)
