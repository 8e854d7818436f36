"""A row of the spheres dock's rounds table (Fine-tune) checked its round's model file (card and weights) four times
per refresh, a shipped copy's: for 'another version's?', its problem, its origin word and its label. The table
refreshes at every switch of image, frame edit and round: each row's model is now read once, as the Rods and
chains dock's rows are (test_s54_docks_round_rows_read_once)."""

from collections import Counter

import numpy as np
import pytest

from helpers import make_widget
from napari_particle_detect.models.registry import default_model_path
from napari_particle_detect.projects.project import Project

pytestmark = pytest.mark.usefixtures("project_home")


def test_each_fine_tune_round_row_reads_its_model_file_once_per_refresh(make_napari_viewer, monkeypatch):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((2, 48, 48), np.uint16), name="cells")
    widget = make_widget(viewer, None)  # the shipped model is round 1
    widget.detect.add_model_file(str(default_model_path()))  # round 2, from a file
    panel = widget.finetune

    reads: Counter = Counter()
    checked = Project.round_model_problem

    def counted(self, number):
        reads[number] += 1
        return checked(self, number)

    monkeypatch.setattr(Project, "round_model_problem", counted)
    panel.refresh()
    assert panel.table.rowCount() == 2
    assert panel.table.item(0, 1).text() == "shipped" and panel.table.item(1, 1).text() == "unet.pt"
    assert reads == Counter({1: 1, 2: 1}), reads
