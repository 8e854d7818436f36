"""A row of the Rods and chains dock's rounds table checked its round's model file (card and weights) up to four
times per refresh: for its problem, its origin word, its label, and again inside each for 'another version's?'.
The table refreshes at every switch of image, frame edit and round: each row's model is now read once."""

from collections import Counter

import pytest
import tifffile

from helpers import kinds_dock, small_stack
from napari_particle_detect.detection.kinds_prediction import shipped_model_path
from napari_particle_detect.models.registry import copy_model
from napari_particle_detect.projects.kinds_project import open_kind_project
from napari_particle_detect.projects.project import Project, RoundInfo

pytestmark = pytest.mark.usefixtures("project_home")


def test_each_round_row_reads_its_model_file_once_per_refresh(make_napari_viewer, tmp_path, monkeypatch):
    stack = small_stack(1, 48)[0]
    tifffile.imwrite(tmp_path / "rods.tif", stack)
    project = open_kind_project("rods", tmp_path / "rods.tif", data=stack)
    for info in (RoundInfo(0, "shipped"), RoundInfo(0, "fine-tuned", parent=1, held_out=3, f1=0.8, parent_f1=0.9,
                                                      improved=False)):
        workspace = project.new_workspace()
        copy_model(shipped_model_path("rods"), workspace / "model.pt")
        project.commit_round(workspace, info, make_current=info.parent is None)
    viewer = make_napari_viewer()
    viewer.open(tmp_path / "rods.tif", plugin="napari")
    panel = kinds_dock(viewer, "rods", "rods").rounds

    reads: Counter = Counter()
    checked = Project.round_model_problem

    def counted(self, number):
        reads[number] += 1
        return checked(self, number)

    monkeypatch.setattr(Project, "round_model_problem", counted)
    panel.refresh()
    assert panel.table.rowCount() == 2
    assert panel.table.item(0, 4).text() == "in use, shipped"
    # Once per row, and once more for round-001's 'this version ships another?' line under the table (it was 5).
    assert reads == Counter({1: 2, 2: 1}), reads
