"""A slice the microscope dropped as NaN throughout is refilled by a 3D round (the dock's and `train --from`) as detect
refills it: the round refused the whole volume ("fill them first (numpy.nan_to_num)"), though detect had read it and
the user had reviewed its centres, and a slice dropped blank was refilled and learnt from. NaN patches (a mosaic's
gaps) are still refused: filled with the background they would teach background where particles may lie."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import tifffile
import torch

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.volume_rounds import (VolumeSettings, open_volume_project,
                                                           project_volume_examples, remember_settings)
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

DROPPED = 5


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def sample():
    return synthesize_volume(VolumeConfig(shape=(12, 40, 40), volume_fraction=0.3, diameter=10.0, z_step=2.0), seed=3)


def with_nan_slice(sample) -> np.ndarray:
    volume = sample.image.astype(np.float32)
    volume[DROPPED] = np.nan
    return volume


def centres(sample) -> pd.DataFrame:
    c = sample.centres
    return pd.DataFrame({"z": c[:, 0], "y": c[:, 1], "x": c[:, 2], "score": 0.9, "source": "model"})


def reviewed(tmp_path, volume, sample):
    project = open_volume_project(tmp_path / "dropped.tif", volume)
    remember_settings(project, VolumeSettings((5.0, 10.0, 10.0), None, volume.shape))
    project.accept_frame(0, centres(sample))
    return project


def test_a_round_refills_a_slice_dropped_as_nan_and_says_so(sample, tmp_path, caplog):
    volume = with_nan_slice(sample)
    project = reviewed(tmp_path, volume, sample)
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        [example] = project_volume_examples(project, volume, (5.0, 10.0, 10.0), 6.0)
    assert np.isfinite(example.image).all()
    assert [r.getMessage() for r in caplog.records if "microscope" in r.getMessage()] == [
        f"volume 0 (reviewed): slice {DROPPED} NaN or infinite throughout (dropped by the microscope?), each "
        "filled from the slices beside it"]


def test_a_round_still_refuses_nan_patches(sample, tmp_path):
    volume = with_nan_slice(sample)
    volume[2, :6, :6] = np.nan  # a mosaic's gap: no dropped slice
    project = reviewed(tmp_path, volume, sample)
    with pytest.raises(ParticleDetectError, match=r"volume 0 \(reviewed\): volume contains NaN or infinite voxels"):
        project_volume_examples(project, volume, (5.0, 10.0, 10.0), 6.0)


def test_train_from_a_3d_model_refills_a_slice_dropped_as_nan(sample, tmp_path, caplog):
    from napari_particle_detect.cli.volumes import load_volume_examples

    tifffile.imwrite(tmp_path / "vol.tif", with_nan_slice(sample), imagej=True, metadata={"axes": "ZYX"})
    centres(sample).assign(frame=0)[["frame", "z", "y", "x"]].to_csv(tmp_path / "vol.csv", index=False)
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        [example] = load_volume_examples([tmp_path / "vol.tif"], None, 6.0, 10.0, None)
    assert np.isfinite(example.image).all()
    assert any(f"slice {DROPPED} NaN or infinite throughout" in r.getMessage() for r in caplog.records)
