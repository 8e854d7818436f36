"""Hand-edited rods and chains tables and images a round is given (train --kind ... DATA, the dock's round):
a table whose objects lie outside its image, a blank or NaN frame, are each said in one line naming the file,
before any training; and the outside count is said in good English ("1 of its 3 rods lies ...")."""

import io
import logging
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.kinds_rounds import KIND_ROUND, Reviewed, fine_tune_kind
from napari_particle_detect.learning.kinds_training import load_kind_examples
from napari_particle_detect.learning.training import Example, check_centres_inside
from napari_particle_detect.detection.kinds_prediction import shipped_model_path
from napari_particle_detect.models import load_model

HEADER = "frame,y,x,angle,length,width,y1,x1,y2,x2\n"
# Three rods drawn in a 64 px image: one along the rows, one down the columns, one at 45 degrees.
RODS = ["0,20,32,0,30,6,20,17,20,47", "0,40,12,90,20,6,30,12,50,12", "0,45,45,45,14.142,6,40,40,50,50"]


def rods_image(folder, pixels=None):
    image = np.random.default_rng(0).poisson(100, (64, 64)).astype(np.uint16) if pixels is None else pixels
    tifffile.imwrite(folder / "rods.tif", image)
    return folder / "rods.tif"


def shifted(row: str, dy: float) -> str:
    """A rods row moved ``dy`` px down (its centre and both tips), as a table in other pixels would hold it."""
    values = row.split(",")
    for column in (1, 6, 8):
        values[column] = str(float(values[column]) + dy)
    return ",".join(values)


def test_rods_all_outside_their_image_are_refused_naming_the_table(tmp_path):
    rods_image(tmp_path)
    (tmp_path / "rods.csv").write_text(HEADER + "\n".join(shifted(r, 300) for r in RODS) + "\n")
    with pytest.raises(ParticleDetectError) as error:
        load_kind_examples([tmp_path], "rods")
    assert str(error.value) == (f"{tmp_path / 'rods.csv'}: its 3 rods all lie outside the 64x64 image; check the "
                                "table's y and x columns (pixels, y first)")


def test_a_rod_outside_is_said_in_one_line_and_a_rod_crossing_the_edge_is_not(tmp_path, caplog):
    rods_image(tmp_path)
    # The first rod moved wholly below the image; the second (down the columns) moved up so its centre is outside
    # (y -5) but its body crosses the top edge: it is drawn in part, so it is not ignored.
    rows = [shifted(RODS[0], 300), shifted(RODS[1], -45), RODS[2]]
    (tmp_path / "rods.csv").write_text(HEADER + "\n".join(rows) + "\n")
    with caplog.at_level(logging.WARNING):
        frames = load_kind_examples([tmp_path], "rods")
    assert len(frames) == 1 and len(frames[0][1]) == 3
    said = [r.getMessage() for r in caplog.records if "outside" in r.getMessage()]
    assert said == [f"{tmp_path / 'rods.csv'}: 1 of its 3 rods lies outside the 64x64 image; it is ignored"]


def test_beads_outside_a_stack_frame_name_the_frame(tmp_path, caplog):
    stack = np.random.default_rng(1).poisson(100, (2, 64, 64)).astype(np.uint16)
    tifffile.imwrite(tmp_path / "beads.tif", stack)
    beads = ["0,10,10,0,0,0", "0,10,20,0,1,0", "0,10,30,0,2,0", "1,20,20,0,0,0", "1,20,90,1,0,0", "1,20,99,2,0,0"]
    (tmp_path / "beads.csv").write_text("frame,y,x,chain,index,closed\n" + "\n".join(beads) + "\n")
    with caplog.at_level(logging.WARNING):
        load_kind_examples([tmp_path], "chains")
    said = [r.getMessage() for r in caplog.records if "outside" in r.getMessage()]
    assert said == [f"{tmp_path / 'beads.csv'} frame 1: 2 of its 3 beads lie outside the 64x64 image; they are "
                    "ignored"]


@pytest.mark.parametrize("pixels, problem", [
    (np.zeros((64, 64), np.uint16), "image is constant (every pixel is 0)"),
    (np.where(np.eye(64, dtype=bool), np.nan, 100.0).astype(np.float32),
     "image contains NaN or infinite pixels; training learns from every pixel: fill them first (numpy.nan_to_num) or "
     "leave this frame out"),
])
def test_a_blank_or_nan_image_is_refused_before_a_round_naming_it(tmp_path, pixels, problem):
    path = rods_image(tmp_path, pixels)
    (tmp_path / "rods.csv").write_text(HEADER + "\n".join(RODS) + "\n")
    with pytest.raises(ParticleDetectError) as error:
        load_kind_examples([tmp_path], "rods")
    assert str(error.value).startswith(f"{path}: {problem}")


def test_the_docks_round_on_nan_pixels_names_the_frame_before_training():
    """The dock's round hands fine_tune_kind its frames: NaN pixels there failed as 'fine-tuning diverged at step 1
    (the loss is nan)', naming nothing."""
    image = np.random.default_rng(2).poisson(100, (64, 64)).astype(np.float32)
    image[:4, :4] = np.nan
    table = pd.read_csv(io.StringIO(HEADER + "\n".join(RODS) + "\n")).assign(score=1.0, source="accepted")
    example = Example(image=image, centres=table[["y", "x"]].to_numpy(float), name="frame 3")
    model = load_model(shipped_model_path("rods"), "cpu")
    with pytest.raises(ParticleDetectError, match=r"^frame 3: image contains NaN or infinite pixels; training learns from every pixel"):
        fine_tune_kind(model, [Reviewed(example, table)], replace(KIND_ROUND, kind="rods", steps_per_epoch=2,
                                                                  batch_size=2, crop=64), "cpu")


def test_one_centre_outside_a_volume_is_said_in_the_singular(caplog):
    centres = np.array([[2.0, 10, 10], [30.0, 10, 10], [5.0, 20, 20]])
    with caplog.at_level(logging.WARNING):
        check_centres_inside("vol.csv", centres, (24, 64, 64))
    assert "vol.csv: 1 of its 3 centres lies outside the 24x64x64 (z, y, x) volume; it is ignored" in caplog.text
