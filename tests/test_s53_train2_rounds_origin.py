"""The rounds table says which model file a round was added from: its 'from' column once read just "from"."""

from napari_particle_detect.cli.main import main
from napari_particle_detect.projects.shipped_rounds import origin_word

from helpers import reviewed_project


def test_a_round_added_from_a_model_file_is_listed_by_the_files_name(tmp_path, capsys):
    project, _ = reviewed_project(tmp_path)  # round 1: from tmp_path/.../tiny.pt
    assert project.rounds[0].origin.startswith("from ") and project.rounds[0].origin.endswith("tiny.pt")
    assert main(["rounds", str(tmp_path / "img.tif")]) == 0
    row = capsys.readouterr().out.splitlines()[1]
    assert row.split()[:2] == ["001", "tiny.pt"]
    imported = project.import_model(project.round_path(1))  # 'imported from PATH/round-001/model.pt'
    assert origin_word(project, imported) == "model.pt"
