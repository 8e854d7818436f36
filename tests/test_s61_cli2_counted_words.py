"""Counts said in plain words: 'its 1 frame(s) are read as holding no particles' is 'its 1 frame is read', and
'1 of 3 rows have' is '1 of 3 rows has', the verb agreeing with the count."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.kinds.evaluation import evaluate_frames, score
from napari_particle_detect.learning.training import load_examples

TABLE = pd.DataFrame({"frame": [0, 0, 0], "y": [10.0, 20.0, 30.0], "x": [10.0, 20.0, 30.0]})


def _empty_tables(folder, images: int) -> None:
    """``images`` single images, each with a header-only table: each one frame reviewed empty."""
    for i in range(images):
        pixels = np.random.default_rng(i).integers(0, 255, (64, 64), np.uint8)
        tifffile.imwrite(folder / f"e{i}.tif", pixels, photometric="minisblack")
        (folder / f"e{i}.csv").write_text("frame,y,x\n")


@pytest.mark.parametrize(("images", "said"), [(1, "its 1 frame is read"), (2, "its 2 frames are read")])
def test_tables_without_a_centre_count_their_frames_in_words(tmp_path, caplog, images: int, said: str) -> None:
    _empty_tables(tmp_path, images)

    with caplog.at_level(logging.WARNING):
        load_examples([tmp_path], 15.0, diameter=12.0)

    assert f"{tmp_path}: not one centre in its tables: {said} as holding no particles" in caplog.text


@pytest.mark.parametrize(("missing", "verb"), [(1, "has"), (2, "have")])
def test_points_missing_a_coordinate_are_counted_with_their_verb(missing: int, verb: str) -> None:
    truth = TABLE.assign(y=[np.nan] * missing + [20.0] * (3 - missing))

    with pytest.raises(ParticleDetectError) as refused:
        score(TABLE, truth)

    assert str(refused.value).startswith(f"truth: {missing} of 3 points {verb} a missing (NaN) or infinite coordinate")


@pytest.mark.parametrize(("missing", "verb"), [(1, "has"), (2, "have")])
def test_rows_missing_a_coordinate_are_counted_with_their_verb(missing: int, verb: str) -> None:
    predicted = TABLE.assign(x=[np.nan] * missing + [20.0] * (3 - missing))

    with pytest.raises(ParticleDetectError) as refused:
        evaluate_frames(predicted, TABLE)

    assert str(refused.value).startswith(f"predicted: {missing} of 3 rows {verb} a missing, non-numeric or infinite")
