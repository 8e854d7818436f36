"""The three docks closed with their X said what became of their layers each in its own words (the Rods and chains
dock 'removed' them, as if deleted; the Particle detection dock kept one image's centres 'in their projects'; only
one of them cut a long list of names short): one wording now, from one builder."""

import re

import numpy as np
import pandas as pd
import pytest

from helpers import kinds_dock, make_widget, notification_count, notifications_since, pick
from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.synthetic.rods import rod_table

pytestmark = pytest.mark.usefixtures("project_home")

SAID = re.compile(r"the (Particle detection|Rods and chains|Volume detection \(3D\)) dock was closed: its layers are "
                  r"put away \('[^)]+'\), their (centres and reviews|rods) kept in the project; they come back when "
                  r"the dock is opened again")


def _closed_saying(viewer, dock) -> list[str]:
    seen = notification_count()
    viewer.window.remove_dock_widget(dock)  # its X
    return [m for m in notifications_since(seen) if "dock was closed" in m]


def test_the_three_docks_say_their_layers_put_away_in_one_wording(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(np.random.default_rng(0).random((2, 48, 48)).astype(np.float32), name="discs")
    spheres = make_widget(viewer, None)
    pick(spheres, "discs")
    spheres.annotation.ensure_points_layer().add([[0, 20.0, 21.0]])

    viewer.add_image(np.random.default_rng(1).random((48, 48)).astype(np.float32), name="rods img")
    rods = kinds_dock(viewer, "rods", "rods img")
    rods.session.set_detections(rod_table([20.0], [24.0], [0.0], [20.0], [4.0]).assign(frame=0, score=0.9), [0])

    volume = viewer.add_image(np.random.default_rng(2).random((8, 24, 24)).astype(np.float32), name="vol")
    dock = VolumeDetectWidget(viewer)
    viewer.window.add_dock_widget(dock)
    dock.layer_combo.setCurrentText("vol")
    project = dock.review.project
    project.save_frame(0, pd.DataFrame({"frame": [0], "z": [4.0], "y": [12.0], "x": [12.0], "score": [np.nan],
                                        "source": ["added"]}))
    dock.show_points(volume, project.load_all(), 6.0, 6.0)

    said = [*_closed_saying(viewer, spheres), *_closed_saying(viewer, rods), *_closed_saying(viewer, dock)]
    assert len(said) == 3, said
    for line in said:
        assert SAID.fullmatch(line), line
