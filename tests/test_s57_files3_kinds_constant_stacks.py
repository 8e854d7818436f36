"""detect --kind rods|chains on constant frames, as spheres: a stack of nothing else is refused in the spheres' words
(it exited 0 with an empty table and a line per frame), and a few among others are said in one line, not one each."""

from pathlib import Path

import numpy as np
import pytest
import tifffile

from napari_particle_detect.cli.main import main


def detect(path: Path, kind: str, capsys) -> tuple[int, str]:
    code = main(["-q", "detect", str(path), "-o", str(path.with_suffix(".csv")), "--kind", kind, "--device", "cpu"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("kind", ["rods", "chains"])
def test_a_stack_of_constant_frames_is_refused_as_spheres_refuse_it(tmp_path, capsys, kind):
    path = tmp_path / "dark.tif"
    tifffile.imwrite(path, np.full((4, 48, 48), 7, np.uint8), photometric="minisblack")
    code, err = detect(path, kind, capsys)
    assert code == 2, err
    assert err.strip().splitlines() == [f"particle-detect: error: {path}: every frame is constant; nothing to detect"]
    assert not path.with_suffix(".csv").exists() and not path.with_suffix(".json").exists()


def test_constant_frames_among_others_are_said_once(tmp_path, capsys):
    stack = np.random.default_rng(0).normal(100, 5, (5, 48, 48)).astype(np.float32)
    stack[1], stack[3] = 0, 255
    path = tmp_path / "shutter.tif"
    tifffile.imwrite(path, stack, photometric="minisblack")
    code, err = detect(path, "rods", capsys)
    assert code == 0, err
    said = [line for line in err.splitlines() if "constant" in line or "blank frame" in line]
    assert said == [f"{path}: frames 1, 3 (2 of 5) are constant: nothing detected in them; the rest of the stack "
                    "is detected"], err
