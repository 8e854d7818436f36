"""A 3D round cancelled in the Volume dock keeps the 2D dock's words (round_reports.CANCELLING) when the dock's line is
said again before it stops (another image picked, or the same one again): it fell back to a bare "cancelling…", which
left the user asking what of the round was kept."""

from __future__ import annotations

import sys

import pandas as pd
import pytest

from napari_particle_detect._napari.round_reports import CANCELLING
from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
from napari_particle_detect.learning.volume_finetune import VolumeRoundConfig
from napari_particle_detect.learning.volume_rounds import VolumeSettings, ensure_volume_round, remember_settings
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume


@pytest.mark.usefixtures("project_home")
def test_a_cancelled_3d_round_says_the_2d_docks_words_when_said_again(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    sample = synthesize_volume(VolumeConfig(shape=(12, 32, 32), volume_fraction=0.3, diameter=10.0, z_step=2.0),
                               seed=4)
    viewer.add_image(sample.image, name="vol", scale=(2.0, 1.0, 1.0))
    dock = VolumeDetectWidget(viewer)
    project = dock.review.project
    ensure_volume_round(project)
    remember_settings(project, VolumeSettings((5.0, 10.0, 10.0), None, sample.image.shape))
    c = sample.centres
    project.accept_frame(0, pd.DataFrame({"z": c[:, 0], "y": c[:, 1], "x": c[:, 2], "score": 0.9, "source": "model"}))
    rounds = dock.round_panel
    rounds.run(VolumeRoundConfig(steps=500, batch_size=1, crop=16, threads=1))
    interval = sys.getswitchinterval()
    sys.setswitchinterval(5.0)  # the round's thread waits: it stops within a step of the Cancel
    try:
        assert rounds.running()
        rounds.cancel()
        assert rounds.status.text() == CANCELLING
        rounds.refresh()  # as another image picked, or the same one again, has it said
        assert rounds.running()  # still stopping: the refresh spoke of a cancelled round still running
        assert rounds.status.text() == CANCELLING
    finally:
        sys.setswitchinterval(interval)
        rounds.cancel()
        qtbot.waitUntil(lambda: rounds.worker is None, timeout=60_000)
