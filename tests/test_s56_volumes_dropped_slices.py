"""Dropped slices and a hot line, wherever volumes are read: a round's examples are prepared as detect prepares them and
the user is told so once a round, as detect tells (it was done silently); a series' first volume is refilled once, not
once for its size and again for detection; and a dropped slice that still carries the sensor's hot row is seen as
dropped (it read as a real slice: a dark plane with a bright line)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import torch

from napari_particle_detect.detection import volume_detection, volume_resampling
from napari_particle_detect.detection.volume_detection import detect_volume, detect_volumes
from napari_particle_detect.detection.volume_resampling import refilled_gaps
from napari_particle_detect.learning.volume_rounds import (VolumeSettings, open_volume_project,
                                                           project_volume_examples, remember_settings)
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

HOT_ROW = 16
DROPPED = 5


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def sample():
    return synthesize_volume(VolumeConfig(shape=(12, 40, 40), volume_fraction=0.3, diameter=10.0, z_step=2.0), seed=3)


def worn(sample, hot_in_dropped: bool = True) -> np.ndarray:
    """The sample in 16 bits with the sensor's hot row through every slice and slice DROPPED blank (with the hot row
    still in it where ``hot_in_dropped``)."""
    volume = sample.image.astype(np.uint16)
    volume[DROPPED] = 0
    volume[:, HOT_ROW, :] = 65535
    if not hot_in_dropped:
        volume[DROPPED, HOT_ROW, :] = 0
    return volume


def said(caplog, words: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if words in r.getMessage()]


def test_a_dropped_slice_carrying_the_hot_row_is_refilled(sample, caplog):
    volume = worn(sample)
    out, _, slices = refilled_gaps(volume, None)
    assert slices == [DROPPED]
    np.testing.assert_allclose(out[DROPPED], (volume[DROPPED - 1].astype(np.float32) + volume[DROPPED + 1]) / 2)
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        detect_volume(volume, options=volume_detection.VolumeOptions(diameter=(5.0, 10.0, 10.0), device="cpu"),
                      name="worn")
    assert said(caplog, f"slice {DROPPED} constant"), [r.getMessage() for r in caplog.records]


def test_a_real_slice_of_a_volume_with_a_hot_row_is_not_refilled(sample):
    volume = sample.image.astype(np.uint16)
    volume[:, HOT_ROW, :] = 65535
    assert refilled_gaps(volume, None)[2] == []


def test_a_series_first_volume_is_refilled_once_and_said_once(sample, caplog, monkeypatch):
    refills = []

    def counted(volume, missing):
        out = refilled_gaps(volume, missing)
        refills.append(out[2])
        return out

    monkeypatch.setattr(volume_detection, "refilled_gaps", counted)
    monkeypatch.setattr(volume_resampling, "refilled_gaps", counted)
    series = np.stack([worn(sample, hot_in_dropped=False), sample.image.astype(np.uint16)])
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        detect_volumes(series, diameter=(5.0, 10.0, 10.0), device="cpu", name="series")
    assert [slices for slices in refills if slices] == [[DROPPED]]  # twice before: sized, then detected
    assert len(said(caplog, "dropped by the microscope")) == 1


def test_a_round_says_once_that_its_volumes_were_refilled_and_despiked(sample, tmp_path, caplog):
    series = np.stack([worn(sample), worn(sample)])
    project = open_volume_project(tmp_path / "worn.tif", series)
    remember_settings(project, VolumeSettings((5.0, 10.0, 10.0), None, series.shape[1:]))
    c = sample.centres
    table = pd.DataFrame({"z": c[:, 0], "y": c[:, 1], "x": c[:, 2], "score": 0.9, "source": "model"})
    for frame in (0, 1):
        project.accept_frame(frame, table)
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        examples = project_volume_examples(project, series, (5.0, 10.0, 10.0), 6.0)
    assert len(examples) == 2
    assert said(caplog, "microscope") == [
        f"volume 0 (reviewed): slice {DROPPED}; volume 1 (reviewed): slice {DROPPED} constant (blank or "
        "saturated: dropped by the microscope?), each filled from the slices beside it"]
    [spikes] = said(caplog, "intensity range")
    assert spikes.startswith("the round's reviewed volumes: ") and "in 2 volumes" in spikes


@pytest.mark.usefixtures("project_home")
def test_the_docks_round_shows_that_its_volumes_were_refilled(make_napari_viewer, qtbot, sample):
    from helpers import notification_count, notifications_since

    from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
    from napari_particle_detect.learning.volume_finetune import VolumeRoundConfig
    from napari_particle_detect.learning.volume_rounds import ensure_volume_round

    viewer = make_napari_viewer()
    viewer.add_image(worn(sample), name="worn", scale=(2.0, 1.0, 1.0))
    dock = VolumeDetectWidget(viewer)
    project = dock.review.project
    ensure_volume_round(project)
    remember_settings(project, VolumeSettings((5.0, 10.0, 10.0), None, sample.image.shape))
    c = sample.centres
    project.accept_frame(0, pd.DataFrame({"z": c[:, 0], "y": c[:, 1], "x": c[:, 2], "score": 0.9, "source": "model"}))
    before = notification_count()
    dock.round_panel.run(VolumeRoundConfig(steps=2, batch_size=2, crop=16, threads=1))
    qtbot.waitUntil(lambda: dock.round_panel.worker is None, timeout=60_000)
    shown = notifications_since(before)
    assert [m for m in shown if "microscope" in m] == [
        f"volume 0 (reviewed): slice {DROPPED} constant (blank or saturated: dropped by the microscope?), each "
        "filled from the slices beside it"], shown
    assert any("held-out F1" in m for m in shown), shown  # the verdict still said after them
