"""Quitting napari with the Rods and chains dock open: the layers leave one by one, and the dock moved on to the
image left after its own, opening that image's project and drawing its rods in the closing window."""

import numpy as np
import pandas as pd
import pytest

from helpers import kinds_dock
from napari_particle_detect.synthetic.rods import rod_table

pytestmark = pytest.mark.usefixtures("project_home")


def one_rod() -> pd.DataFrame:
    return rod_table([24.0], [24.0], [0.0], [20.0], [4.0]).assign(frame=0, score=0.9)


def test_closing_the_viewer_opens_no_other_images_project(make_napari_viewer):
    viewer = make_napari_viewer()
    for seed, name in enumerate(["a", "b"]):
        viewer.add_image(np.random.default_rng(seed).random((48, 48)).astype(np.float32), name=name)
    widget = kinds_dock(viewer, "rods", "a")
    widget.session.set_detections(one_rod(), [0])
    widget.image_combo.setCurrentText("b")
    widget.session.set_detections(one_rod(), [0])
    added = []
    viewer.layers.events.inserted.connect(lambda event: added.append(event.value.name))

    viewer.close()
    assert added == []  # not 'a rods', brought back from a's project as napari quit
    assert widget.session is None or widget.session.image.name == "b"
