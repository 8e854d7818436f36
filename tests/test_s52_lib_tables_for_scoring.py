"""Library evaluators and keep_beads given tables a user easily gets wrong (stop 52, library audit)."""

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect import (
    ParticleDetectError, evaluate_chains, evaluate_frames, evaluate_rods, evaluate_volumes, keep_beads,
)

CENTRES = pd.DataFrame({"y": [10.0, 30.0], "x": [12.0, 40.0]})
RODS = pd.DataFrame({"y": [20.0, 50.0], "x": [20.0, 60.0], "angle": [30.0, 120.0], "length": [20.0, 16.0],
                     "width": [5.0, 5.0]})
BEADS = pd.DataFrame({"y": [10.0, 10.0, 10.0, 40.0, 40.0], "x": [10.0, 18.0, 26.0, 40.0, 48.0],
                      "score": [0.9, 0.2, 0.8, 0.7, 0.6], "chain": [0, 0, 0, 1, 1], "index": [0, 1, 2, 0, 1],
                      "closed": [0, 0, 0, 0, 0]})


def two_frames(table: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([table.assign(frame=0), table.assign(frame=1)], ignore_index=True)


@pytest.mark.parametrize("evaluate, table", [
    (evaluate_frames, CENTRES), (evaluate_volumes, CENTRES.assign(z=3.0)), (evaluate_rods, RODS),
    (evaluate_chains, BEADS)])
def test_a_table_without_frames_is_refused_against_one_of_several_frames(evaluate, table):
    # Scored as frame 0, the second frame's objects counted as missed: F1 0.67 for a perfect detection.
    with pytest.raises(ParticleDetectError, match="predicted: no frame column, while truth holds 2 frames"):
        evaluate(table, two_frames(table))
    with pytest.raises(ParticleDetectError, match="truth: no frame column, while predicted holds 2 frames"):
        evaluate(two_frames(table), table)


def test_a_frame_index_is_named_in_the_refusal_and_one_frame_still_scores_without_a_column():
    stack = two_frames(CENTRES)
    with pytest.raises(ParticleDetectError, match=r"its index is named frame: table.reset_index\(\)"):
        evaluate_frames(stack.set_index("frame"), stack)
    one = evaluate_frames(CENTRES, CENTRES.assign(frame=0))
    assert one["f1"].tolist() == [1.0, 1.0]
    with pytest.warns(UserWarning, match="b.tif is only in the truth table"):
        per_file = evaluate_frames(CENTRES.assign(file="a.tif"), pd.concat(
            [CENTRES.assign(file="a.tif", frame=0), CENTRES.assign(file="b.tif", frame=0)]))
    assert per_file.iloc[-1]["fn"] == 2  # b.tif's frame is missed, one frame of each image: no refusal


def test_keep_beads_refuses_row_numbers_and_masks_of_another_length():
    with pytest.raises(TypeError, match="True or False for each bead"):
        keep_beads(BEADS, np.array([0, 2, 3, 4, 1]))  # row numbers, once read as "nonzero"
    with pytest.raises(ValueError, match="the table has 5 rows, keep has shape \\(3,\\)"):
        keep_beads(BEADS, np.ones(3, bool))
    with pytest.raises(ValueError, match="index is not the table's"):
        keep_beads(BEADS, (BEADS.score > 0.5).set_axis([5, 6, 7, 8, 9]))
    kept = keep_beads(BEADS, BEADS.score > 0.5)
    assert kept["chain"].tolist() == [0, 1, 2, 2] and kept["index"].tolist() == [0, 0, 0, 1]
    assert keep_beads(BEADS.iloc[:0], []).empty
