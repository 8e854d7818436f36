"""`particle-detect gui` given a CSV that is no table: one line saying why, in detect's and evaluate's words, not
napari's reader's failure."""

import pytest

from napari_particle_detect.cli.gui import build_viewer
from napari_particle_detect.errors import ParticleDetectError


def test_an_empty_csv_is_one_line_not_a_traceback(tmp_path, napari_app_of_its_own):
    # napari's own CSV reader raised a bare StopIteration, and the command ended in a traceback.
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ParticleDetectError, match=r"empty\.csv: empty file \(expected a header with y,x columns\)"):
        build_viewer([empty], show=False)


def test_a_csv_without_centre_columns_names_the_columns_it_needs(tmp_path, napari_app_of_its_own):
    # It said "cannot open (ValueError: Reader 'napari' was selected to open [...], but returned no data.)".
    table = tmp_path / "cells.csv"
    table.write_text("area,perimeter\n1,2\n")
    with pytest.raises(ParticleDetectError) as caught:
        build_viewer([table], show=False)
    assert str(caught.value) == f"{table}: needs columns y and x (got area, perimeter)"
