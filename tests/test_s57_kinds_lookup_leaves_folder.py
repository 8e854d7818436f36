"""Asking which rods/chains projects an image has (every image the kinds dock is shown) writes nothing in the image's
folder: a trial write made and removed there at each pick touched the folder of a network share each time."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import tifffile

from napari_particle_detect.projects.kinds_project import existing_kinds, open_kind_project


def test_looking_for_kind_projects_leaves_the_images_folder_untouched(tmp_path, monkeypatch):
    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_HOME", str(tmp_path / "home"))
    image = tmp_path / "images" / "rods.tif"
    image.parent.mkdir()
    tifffile.imwrite(image, np.zeros((32, 32), np.uint16))
    os.utime(image.parent, ns=(1, 1))
    assert existing_kinds(image) == []
    assert os.stat(image.parent).st_mtime_ns == 1
    beads = pd.DataFrame({"y": [5.0, 11.0], "x": [5.0, 5.0], "score": [1.0, 1.0], "chain": [0, 0], "index": [0, 1]})
    open_kind_project("chains", image).save_frame(0, beads)
    assert existing_kinds(image) == ["chains"]
