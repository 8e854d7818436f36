"""With every rod or bead of a frame deleted and the frame accepted, the Rods and chains dock's line read "0 beads in 0
chains (reviewed) (free beads are chains of one)" or "0 rods ... select and Delete to remove": it says there are none
and how to add one."""

import numpy as np
import pandas as pd
import pytest
from napari.components import ViewerModel

from napari_particle_detect.synthetic.rods import rod_table

pytestmark = pytest.mark.usefixtures("project_home")

FOUND = {
    "rods": rod_table([20.0], [24.0], [0.0], [20.0], [4.0]).assign(frame=0, score=0.9, source="model"),
    "chains": pd.DataFrame({"y": [10.0, 10.0], "x": [10.0, 16.0], "score": [0.9, 0.8], "chain": [0, 0],
                            "index": [0, 1], "closed": 0, "source": "model", "frame": 0}),
}


@pytest.mark.parametrize("kind, said", [("rods", "no rods (reviewed): draw a line to add one"),
                                        ("chains", "no beads (reviewed): add one with P")])
def test_a_frame_accepted_with_everything_deleted_says_none(qtbot, kind, said):
    from napari_particle_detect._napari.kinds_widget import KindsWidget

    viewer = ViewerModel()
    viewer.add_image(np.random.default_rng(1).random((48, 48)).astype(np.float32), name="img")
    widget = KindsWidget(viewer)
    qtbot.addWidget(widget)
    widget.kind_combo.setCurrentText(kind)
    session = widget.session
    session.set_detections(FOUND[kind], [0], detected_by=1)
    layer = session.main_layer
    layer.selected_data = set(range(len(layer.data)))
    layer.remove_selected()  # as Delete does
    widget.review.accept_frame()
    assert session.project.is_reviewed(0) and session.tables[0].empty
    assert widget.status.text() == said
