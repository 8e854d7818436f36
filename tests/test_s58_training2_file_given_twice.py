"""A file given twice among DATA (its folder and itself) was read twice: a round trained on and held out of both
copies, weighing that file double and counting its held-out tiles twice in its verdict. It is read once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

from napari_particle_detect.kinds.registry import get_kind
from napari_particle_detect.learning.kinds_training import load_kind_examples
from napari_particle_detect.learning.training import load_examples


def test_a_rods_file_given_with_its_folder_is_read_once(tmp_path):
    image, table = get_kind("rods").example(np.random.default_rng(0), 64, 0)
    tifffile.imwrite(tmp_path / "img.tif", image)
    table.to_csv(tmp_path / "img.csv", index=False)
    frames = load_kind_examples([tmp_path, tmp_path / "img.tif", Path(f"{tmp_path}/./img.tif")], "rods")
    assert [frame.name for frame in frames] == ["img.tif[0]"]


def test_a_centres_file_given_with_its_folder_is_read_once(tmp_path):
    rng = np.random.default_rng(0)
    tifffile.imwrite(tmp_path / "img.tif", rng.random((64, 64)).astype(np.float32))
    (tmp_path / "img.csv").write_text("y,x\n10,10\n30,40\n50,20\n")
    examples = load_examples([tmp_path, tmp_path / "img.tif"])
    assert [example.name for example in examples] == ["img.tif[0]"]
