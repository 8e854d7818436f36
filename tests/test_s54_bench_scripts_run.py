"""Benchmark scripts that broke on library changes: the private names they read, and the GPU-only
script's exit where there is no GPU."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(autouse=True)
def _benchmarks_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))


def test_look_check_blob_search_reads_the_size_estimate():
    import look_check

    from napari_particle_detect.synthetic import spheres

    image = spheres.synthesize(spheres.benchmark_config("fluorescent", 0.3, shape=(128, 128), radius=6.0), seed=3).image
    assert look_check.blob_search_look(image, 12.0) in (True, False)


@pytest.mark.skipif(torch.cuda.is_available(), reason="says so only where there is no GPU")
def test_gpu_profile_without_a_gpu_says_so_and_exits_cleanly(capsys):
    import gpu_profile

    assert gpu_profile.main(["--device", "cuda"]) == 0
    assert "no CUDA GPU here" in capsys.readouterr().out
    sys.modules.pop("gpu_profile", None)
