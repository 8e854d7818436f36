"""`train FOLDER` beside `img.tif` and `img_truth.csv` (as the bundled sample and other generators name truth) said
only "img.tif left out: no centre table beside it", the table in plain sight: it now says the rename that pairs them."""

import logging

import numpy as np
import tifffile

from napari_particle_detect.learning.training import say_unlabelled_images


def test_a_table_named_after_an_image_but_not_as_its_table_is_named_with_the_rename(tmp_path, caplog):
    for name in ("img.tif", "other.tif", "imgs.tif"):
        tifffile.imwrite(tmp_path / name, np.zeros((16, 16), np.uint8))
    (tmp_path / "img_truth.csv").write_text("y,x\n1,1\n")
    (tmp_path / "imgs.csv").write_text("y,x\n1,1\n")  # paired: not named in the warning
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        say_unlabelled_images([tmp_path])
    assert caplog.messages == [f"{tmp_path}: img.tif, other.tif left out: no centre table beside them (an image's "
                               "table is NAME.csv: rename img_truth.csv to img.csv to pair them)"]
    caplog.clear()
    (tmp_path / "img_truth.csv").unlink()
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        say_unlabelled_images([tmp_path])
    assert caplog.messages == [f"{tmp_path}: img.tif, other.tif left out: no centre table beside them"]
