"""An image closed while the Volume dock detected in it: the detection stopped, and the line under Detect went on
saying "detecting in 4 volumes of 'series' with round-001…" for good, over no image at all."""

import numpy as np

from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume


def test_the_line_says_the_detection_stopped_once_it_has(make_napari_viewer, qtbot, project_home):
    viewer = make_napari_viewer()
    config = VolumeConfig(shape=(8, 32, 32), volume_fraction=0.3, diameter=8.0, z_step=2.0)
    viewer.add_image(np.stack([synthesize_volume(config, seed=s).image for s in range(4)]), name="series")
    dock = VolumeDetectWidget(viewer)
    dock.diameter.setValue(8.0)
    dock.button.click()
    assert dock.status.text().startswith("detecting in 4 volumes of 'series'")

    viewer.layers.remove("series")  # stops the detection after the volume it is on
    qtbot.waitUntil(lambda: dock.worker is None, timeout=60_000)

    assert dock.status.text() == "'series' was closed while detecting: detection stopped, nothing it found was saved"
