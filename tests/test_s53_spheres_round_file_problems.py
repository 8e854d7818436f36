"""The Particle detection dock's round table says a round's model file is damaged or missing, as `rounds` does."""
import shutil

import numpy as np


def test_the_spheres_dock_says_a_rounds_model_file_is_damaged_or_missing(make_napari_viewer):
    from helpers import make_widget

    from napari_particle_detect.models.registry import default_model_path

    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((2, 48, 48), np.uint16), name="cells")
    widget = make_widget(viewer, None)
    widget.detect.add_model_file(str(default_model_path()))  # round 2 beside the shipped round 1
    widget.state.use_round(1)
    project = widget.annotation.project
    project.round_path(2).write_bytes(b"garbage")
    table = widget.finetune.table
    widget.finetune.refresh()
    result = table.columnCount() - 1
    assert table.item(1, result).text().endswith("model file damaged")
    assert table.item(1, 0).toolTip().endswith("model file damaged")
    shutil.rmtree(project.folder / "rounds")
    widget.finetune.refresh()
    assert table.item(0, result).text() == "model file missing"  # the shipped round has no verdict of its own
    assert table.item(0, 0).toolTip() == "round-001: shipped; model file missing"
