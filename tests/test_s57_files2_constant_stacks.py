"""Constant frames of a stack, with a diameter given: a stack of nothing else is refused as without one, and a few
among others are said in one line, not one each."""

from pathlib import Path

import numpy as np
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import tiny_model_file


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("constant-stacks-model"))


def particles(seed: int) -> np.ndarray:
    return synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=seed).image


@pytest.mark.parametrize("diameter", [[], ["--diameter", "10"]])
def test_a_stack_of_constant_frames_is_refused_in_one_line_diameter_or_not(tmp_path, capsys, tiny_model, diameter):
    # With --diameter it exited 0 with an empty table and a line per frame, each ending "the rest of the stack is
    # detected" where there was no rest.
    path = tmp_path / "dark.tif"
    tifffile.imwrite(path, np.full((4, 64, 64), 7, np.uint8), photometric="minisblack")
    out = tmp_path / "dark.csv"
    code = main(["-q", "detect", str(path), "-o", str(out), "--model", str(tiny_model), "--device", "cpu", *diameter])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.strip().splitlines() == [f"particle-detect: error: {path}: every frame is constant; nothing to detect"]
    assert not out.exists() and not out.with_suffix(".json").exists()


@pytest.mark.parametrize("diameter", [[], ["--diameter", "10"]])
def test_constant_frames_among_others_are_said_once(tmp_path, capsys, tiny_model, diameter):
    stack = np.stack([particles(seed) for seed in range(10)])
    stack[3], stack[7] = 0, 255
    path = tmp_path / "shutter.tif"
    tifffile.imwrite(path, stack, photometric="minisblack")
    out = tmp_path / "shutter.csv"
    code = main(["-q", "detect", str(path), "-o", str(out), "--model", str(tiny_model), "--device", "cpu", *diameter])
    err = capsys.readouterr().err
    assert code == 0, err
    said = [line for line in err.splitlines() if any(words in line for words in ("is constant", "are constant",
                                                                                 "blank frame"))]
    assert said == [f"{path}: frames 3, 7 (2 of 10) are constant: nothing detected in them; the rest of the stack "
                    "is detected"], err
    assert out.exists()
