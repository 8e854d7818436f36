"""A rod added by hand to a rods table by its two tips alone (its ends read off the image, a line drawn in ImageJ),
the other columns of its row left empty: measured from its tips as a table of tips alone is, not refused as
'column y holds missing values'."""

import io

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect import evaluate_rods
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.kinds.rods import check_table

TABLE = """frame,y,x,angle,length,width,y1,x1,y2,x2,score
0,60.167,64.801,29.744,87.471,7.500,38.469,26.827,81.865,102.774,0.847
0,,,,,,40,10,10,40,
"""


def test_a_row_of_tips_alone_is_measured_from_them():
    table = check_table(pd.read_csv(io.StringIO(TABLE)), "rods.csv")
    added = table.iloc[1]
    # Tips (40, 10) -> (10, 40): up and right, 135 degrees with rows down; tip 2 - tip 1 points along the angle.
    assert (added["y"], added["x"], added["angle"]) == pytest.approx((25.0, 25.0, 135.0))
    assert added["length"] == pytest.approx(30 * np.sqrt(2))
    assert np.degrees(np.arctan2(added["y2"] - added["y1"], added["x2"] - added["x1"])) % 180 == pytest.approx(135.0)
    assert np.isnan(added["width"]) and table.iloc[0]["angle"] == pytest.approx(29.744)
    scores, _ = evaluate_rods(table, table.iloc[:1].assign(frame=0))
    assert (scores.tp, scores.fp) == (1, 1)


def test_a_row_left_empty_in_part_or_with_tips_at_one_point_is_still_refused():
    half = pd.read_csv(io.StringIO(TABLE.replace("0,,,,,,40,", "0,25,,,,,40,")))
    with pytest.raises(ParticleDetectError, match="^rods.csv: column x holds missing values"):
        check_table(half, "rods.csv")
    point = pd.read_csv(io.StringIO(TABLE.replace("40,10,10,40", "40,10,40,10")))
    with pytest.raises(ParticleDetectError, match=r"^rods.csv: the tips on row 2 are one point \(40, 10\)"):
        check_table(point, "rods.csv")


def test_a_row_of_a_centre_angle_and_length_alone_is_given_its_tips():
    """The other way round: a rod added by its centre, angle and length to a table with tips, its tips left empty
    (as a table without tip columns is read), was refused as 'column y1 holds missing values'."""
    table = check_table(pd.read_csv(io.StringIO(TABLE.replace("0,,,,,,40,10,10,40,", "0,10,25,135,30,5,,,,,"))),
                        "rods.csv")
    added = table.iloc[1]
    assert np.hypot(added["y2"] - added["y1"], added["x2"] - added["x1"]) == pytest.approx(30.0)
    assert np.degrees(np.arctan2(added["y2"] - added["y1"], added["x2"] - added["x1"])) == pytest.approx(135.0)
    assert ((added["y1"] + added["y2"]) / 2, (added["x1"] + added["x2"]) / 2) == pytest.approx((10.0, 25.0))
    at_180 = check_table(pd.read_csv(io.StringIO(TABLE.replace("0,,,,,,40,10,10,40,", "0,10,25,180,30,,,,,,"))),
                         "rods.csv").iloc[1]
    assert at_180["angle"] == 0.0 and (at_180["y1"], at_180["x1"], at_180["x2"]) == pytest.approx((10.0, 10.0, 40.0))
    with pytest.raises(ParticleDetectError, match="^rods.csv: angle -30 on row 2 is out of range"):
        check_table(pd.read_csv(io.StringIO(TABLE.replace("0,,,,,,40,10,10,40,", "0,10,25,-30,30,,,,,,"))),
                    "rods.csv")
