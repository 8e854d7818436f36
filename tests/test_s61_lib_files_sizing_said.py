"""detect_files says a file's doubtful size estimate, as detect() says an array's: the doubt was only in the file's
.json (the command line said it after the whole run; a library caller, here or on a dask cluster, heard nothing)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile

from napari_particle_detect.files.distributed import detect_files
from napari_particle_detect.files.file_detection import DetectOptions

from helpers import tiny_model_file


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("model"))


@pytest.fixture
def noise_and_sized(tmp_path):
    """A file of flat noise, whose size can only be guessed, and one detected at a diameter given."""
    noise = (2000 + 20 * np.random.default_rng(0).standard_normal((96, 96))).astype(np.uint16)
    tifffile.imwrite(tmp_path / "noise.tif", noise)
    tifffile.imwrite(tmp_path / "other.tif", noise[:64, :64])
    return tmp_path / "noise.tif", tmp_path / "other.tif"


def _doubts(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "low confidence" in r.getMessage()]


def test_detect_files_here_says_a_doubtful_size_once(tmp_path, caplog, tiny_model, noise_and_sized):
    noise, _ = noise_and_sized
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        summary = detect_files([noise], tmp_path / "out", DetectOptions(device="cpu"), tiny_model)
    record = summary.done[0].record
    assert record["diameter_confidence"] == "low"
    said = _doubts(caplog)
    assert said == [f"{noise}: particle diameter {record['diameter_px']:.1f} px (estimated), low confidence: "
                    f"{record['diameter_reason']}" + ("" if "give" in record["diameter_reason"]
                                                     else "; give the diameter if it is known")]


def test_detect_files_on_a_cluster_says_a_doubtful_size_once(tmp_path, caplog, tiny_model, noise_and_sized):
    from distributed import Client, LocalCluster

    noise, other = noise_and_sized
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as client, caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        summary = detect_files([noise, other], tmp_path / "out", DetectOptions(device="cpu"), tiny_model, client)
        # Given a diameter, no doubt is said of the same files.
        detect_files([noise, other], tmp_path / "given", DetectOptions(device="cpu", diameter=9), tiny_model, client)
    doubtful = [result.path for result in summary.done if result.record["diameter_confidence"] == "low"]
    assert noise in doubtful
    said = _doubts(caplog)
    assert sorted(line.split(": particle diameter")[0] for line in said) == sorted(str(path) for path in doubtful)
