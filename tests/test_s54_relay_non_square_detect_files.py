"""A library caller of ``detect_files`` with a dask client hears once per file that its pixels are not square: the
worker that detects it says nothing (its log may never reach the user: file_detection.said_calibration), so
detect_files says it from each result's record as it comes back; said before only by the command line's folder run."""

from __future__ import annotations

import logging

import pytest

from napari_particle_detect.files.distributed import detect_files
from napari_particle_detect.files.file_detection import DetectOptions

from helpers import tiny_model_file
from test_s54_cli_non_square_pixels import _imagej_tiff


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("model"))




def test_detect_files_on_a_cluster_says_each_stretched_file_once(tmp_path, caplog, tiny_model):
    from distributed import Client, LocalCluster

    stretched = _imagej_tiff(tmp_path / "stretched.tif", 0.5, 0.25)
    square = _imagej_tiff(tmp_path / "square.tif", 0.25, 0.25)
    options = DetectOptions(diameter=7, device="cpu")
    # Its worker in this process: a warning logged there as well as said from the record would show twice.
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as client, caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        summary = detect_files([stretched, square], tmp_path / "out", options, tiny_model, client)
    assert summary.ok and len(summary.done) == 2
    said = [record.getMessage() for record in caplog.records if "not square" in record.getMessage()]
    assert len(said) == 1 and said[0].startswith(f"{stretched}: its metadata gives pixels of 0.5 µm in y and 0.25 µm")
