"""A 3D image whose layer says nothing of its axes is asked about ('3D layer: a volume, or frames? choose'); after
Detect with the dock's ZYX the question stayed beside the centres found, as if nothing had been chosen, though the
dock, reopened on those centres, says they answered it."""

import numpy as np

from napari_particle_detect._napari.volume_panel import AXES_QUESTION, SAVED_AS_VOLUME, VolumeDetectWidget
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume


def test_detect_answers_the_axes_question(make_napari_viewer, qtbot, project_home):
    viewer = make_napari_viewer()
    image = synthesize_volume(VolumeConfig(shape=(8, 32, 32), volume_fraction=0.3, diameter=8.0, z_step=2.0), seed=0)
    viewer.add_image(np.asarray(image.image), name="unlabelled")
    dock = VolumeDetectWidget(viewer)
    assert dock.axes_note.text() == AXES_QUESTION
    dock.diameter.setValue(8.0)
    dock.button.click()
    qtbot.waitUntil(lambda: dock.worker is None, timeout=60_000)
    assert dock.axes_note.text() == SAVED_AS_VOLUME
