"""The Volume dock says why a volume's estimated size is of low confidence, as the command line does, after Detect,
after a Detect that reuses that size, and when the dock is opened again on the same volume: its line said
"(estimated)" only, so a user whose 3D centres looked wrong had no hint why."""

from __future__ import annotations

import numpy as np
import pandas as pd

from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.detection.volume_detection import VolumeOptions, VolumeSizing
from napari_particle_detect.learning.volume_rounds import open_volume_project
from napari_particle_detect.projects.volume_review import VolumeReview


def _result(volume: np.ndarray, sizing) -> tuple:
    """What the dock's Detect worker hands its slot (detect_volumes): a few centres, the sizing read on the volume."""
    table = pd.DataFrame({"frame": 0, "z": [3.0, 4.0], "y": [10.0, 20.0], "x": [12.0, 24.0], "score": [0.9, 0.8]})
    return table, table.iloc[:0], sizing, [0], [], []


def test_the_volume_docks_line_says_why_the_estimated_size_is_doubtful_and_keeps_it_when_reopened(
        make_napari_viewer, project_home):
    viewer = make_napari_viewer()
    volume = np.random.default_rng(3).random((8, 48, 48)).astype(np.float32)
    image = viewer.add_image(volume, name="noise")
    dock = VolumeDetectWidget(viewer)
    # As volume_sizing reads eight slices of noise (read here, the sizing cost a second of the suite's time).
    sizing = VolumeSizing((3.0, 5.0, 5.0), "estimated", False, "slices disagree: 4.2, 6.8, 5.0 px; z: 8 slices, few")
    dock._detected(_result(volume, sizing), dock.review, image, VolumeOptions(), dock._voxel_unit, volume.shape)
    said = dock.status.text()
    assert "(estimated); low confidence: " + sizing.reason in said, said

    dock.shut_down(put_layers_away=True)  # as the dock's X does
    dock = VolumeDetectWidget(viewer)
    assert "saved centres" in dock.status.text() and sizing.reason in dock.status.text(), dock.status.text()

    # Detect again at the size put back in the box (sized as given then, so sure of itself): the doubt is the
    # estimate's still.
    options = dock.options()
    assert options.diameter == sizing.diameter  # volume_sizing takes three numbers as they are, sure of them
    again = VolumeSizing(options.diameter, "given")
    dock._detected(_result(volume, again), dock.review, image, options, dock._voxel_unit, volume.shape)
    assert "(as this image was detected before); low confidence: " + sizing.reason in dock.status.text()



def test_a_voxel_size_given_since_takes_the_estimates_doubt_of_z_away(tmp_path):
    # Typed as the doubt's advice says, the voxel size gives z; the reopened dock still said z could not be measured.
    volume = np.zeros((1, 8, 24, 24), np.float32)
    review = VolumeReview(open_volume_project(tmp_path / "v.tif", volume), volume.shape[1:])
    xy, z = "slices disagree: 4.2, 6.8 px", "z: 8 slices, too few to measure it on (alike over 2.0 slices; 10 or more)"
    review.remember_sizing(VolumeSizing((3.0, 5.0, 5.0), "estimated", False, f"{xy}; {z}"))
    assert review.kept_doubt(5.0, z_by_voxel_size=False) == f"{xy}; {z}"
    assert review.kept_doubt(5.0, z_by_voxel_size=True) == xy
    assert review.kept_doubt(7.0, z_by_voxel_size=False) == ""  # a diameter no estimate gave
    review.remember_sizing(VolumeSizing((3.0, 6.0, 6.0), "given xy, z estimated", False, z))
    assert review.kept_doubt(6.0, z_by_voxel_size=True) == ""
