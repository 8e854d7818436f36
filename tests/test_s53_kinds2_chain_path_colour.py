"""The chains' paths were drawn orange, as Review next's review box: on a frame crowded with chains the box proposed
could not be told from the paths around and through it."""

import numpy as np
import pandas as pd
import pytest
from napari.utils.colormaps.standardize_color import transform_color

from helpers import kinds_dock
from napari_particle_detect._napari.regions import ACCEPTED_COLOUR, DRAFT_COLOUR

pytestmark = pytest.mark.usefixtures("project_home")


def test_the_chains_paths_are_not_the_colour_of_the_review_box_nor_of_accepted_regions(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(np.random.default_rng(0).random((48, 48)).astype(np.float32), name="img")
    widget = kinds_dock(viewer, "chains", "img")
    chain = pd.DataFrame({"frame": 0, "y": [10.0, 10.0, 10.0], "x": [10.0, 20.0, 30.0], "score": 0.9, "chain": 0,
                          "index": [0, 1, 2], "closed": 0, "source": "model"})
    widget.session.set_detections(chain, [0])
    widget.session.regions.propose(0, (0.5, 0.5, 24.5, 24.5))  # as Review next proposes it

    paths = viewer.layers["img chains"].edge_color
    box = viewer.layers["img chains review box"].edge_color
    assert len(paths) == 1 and len(box) == 1
    for other in (box[0], transform_color(DRAFT_COLOUR)[0], transform_color(ACCEPTED_COLOUR)[0]):
        assert not np.allclose(paths[0], other)
