"""A volume's training table numbered from 1 (as ImageJ numbers its frames) was refused as 'frame 1, but
v/volume.tif holds 1 volume(s)', leaving the user to guess why: the refusal asks, as 2D training's does. And one
volume is 'one volume', not '1 volume(s)'."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.cli.volumes import load_volume_examples
from napari_particle_detect.errors import ParticleDetectError


def _volumes_with_table(folder: Path, volumes: int, frames: list[int]) -> Path:
    """``folder``/vol.tif of ``volumes`` blank 8x16x16 volumes (TZYX where several) and vol.csv with one centre
    in each of ``frames``."""
    folder.mkdir()
    shape = (volumes, 8, 16, 16) if volumes > 1 else (8, 16, 16)
    tifffile.imwrite(folder / "vol.tif", np.zeros(shape, np.uint8), imagej=True,
                     metadata={"axes": "TZYX" if volumes > 1 else "ZYX"})
    rows = "".join(f"{frame},4,8,8\n" for frame in frames)
    (folder / "vol.csv").write_text("frame,z,y,x\n" + rows)
    return folder


def test_one_volume_numbered_from_one_is_asked_about(tmp_path: Path) -> None:
    folder = _volumes_with_table(tmp_path / "v", 1, [1])

    with pytest.raises(ParticleDetectError) as refused:
        load_volume_examples([folder], "ZYX", 10.0, None, None)

    assert str(refused.value) == (f"{folder / 'vol.csv'}: frame 1 is beyond {folder / 'vol.tif'}, one volume "
                                  "(frame 0); its frame is 1: numbered from 1, as ImageJ numbers its frames? "
                                  "Frames count from 0")


def test_volumes_numbered_from_one_are_asked_about(tmp_path: Path) -> None:
    folder = _volumes_with_table(tmp_path / "v", 2, [1, 2])

    with pytest.raises(ParticleDetectError) as refused:
        load_volume_examples([folder], "TZYX", 10.0, None, None)

    assert str(refused.value) == (f"{folder / 'vol.csv'}: frame 2 is beyond the 2 volumes of {folder / 'vol.tif'} "
                                  "(frames 0 to 1); its frames run 1 to 2: numbered from 1, as ImageJ numbers its "
                                  "frames? Frames count from 0")


def test_a_frame_beyond_that_is_no_numbering_from_one_is_not_asked_about(tmp_path: Path) -> None:
    folder = _volumes_with_table(tmp_path / "v", 2, [0, 5])

    with pytest.raises(ParticleDetectError) as refused:
        load_volume_examples([folder], "TZYX", 10.0, None, None)

    assert str(refused.value) == (f"{folder / 'vol.csv'}: frame 5 is beyond the 2 volumes of {folder / 'vol.tif'} "
                                  "(frames 0 to 1)")


def test_synth_of_one_volume_says_one_volume(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["synth", "--volume", "--n", "1", "--volume-shape", "8", "24", "24", str(tmp_path / "s")]) == 0

    # main logs to the stderr of the moment, its own handler in place of pytest's
    said = [line for line in capsys.readouterr().err.splitlines() if line.startswith("wrote ")]
    assert len(said) == 1 and said[0].startswith("wrote 1 volume with "), said
