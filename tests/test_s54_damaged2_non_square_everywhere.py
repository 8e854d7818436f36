"""Pixels a file says are not square (an ImageJ TIFF of 0.5 x 0.25 µm pixels) are said once per file wherever it is
detected: a library call of detect_file (spheres and the other kinds), which said nothing, and a folder run on a dask
cluster, whose worker detects it and whose user still hears it once."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.files.file_detection import DetectOptions, detect_file

from helpers import tiny_model_file


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("model"))


def _stretched(path):
    image = np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)
    tifffile.imwrite(path, image, imagej=True, resolution=(1 / 0.25, 1 / 0.5), metadata={"unit": "um"})
    return path


def _said(text: str) -> list[str]:
    return [line for line in text.splitlines() if "not square" in line]


@pytest.mark.parametrize("kind", ["spheres", "rods"])
def test_detect_file_says_pixels_are_not_square(tmp_path, caplog, tiny_model, kind):
    image = _stretched(tmp_path / "stretched.tif")
    model = tiny_model if kind == "spheres" else None
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        result = detect_file(image, DetectOptions(diameter=7 if kind == "spheres" else None, kind=kind, device="cpu"),
                             model)
    assert result.record["pixel_size_yx_um"] == [0.5, 0.25]
    said = _said(caplog.text)
    assert len(said) == 1 and f"{image}: its metadata gives pixels of 0.5 µm in y and 0.25 µm in x" in said[0]


def test_a_folder_run_on_a_cluster_says_it_once(tmp_path, capsys, tiny_model):
    from distributed import LocalCluster

    image = _stretched(tmp_path / "stretched.tif")
    # Its worker in this process: a warning logged there as well as said from the record would show twice.
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        code = main(["-q", "detect", str(image), "-o", f"{tmp_path}/out/", "--scheduler", cluster.scheduler_address,
                     "--model", str(tiny_model), "--diameter", "7"])
    assert code == 0
    assert len(_said(capsys.readouterr().err)) == 1
