"""What a read of the stop's changes found: a file of one pixel column whose length lies along its first axis,
names the centre tables' module held before it was split, NaN voxels where training learns, and an MSD fitted
without lag 1 quoted in frames."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.axes import check_volume, refuse_gaps
from napari_particle_detect.files.tracks import describe_msd


@pytest.mark.parametrize("shape", [(128, 1, 1), (5, 1, 1)])
def test_a_file_of_one_pixel_column_along_its_first_axis_is_refused_as_too_small_in_one_line(tmp_path, capsys,
                                                                                            shape):
    # It raised "ValueError: cannot reshape array of size 128 into shape (1,1)" with a traceback.
    path = tmp_path / "column.tif"
    tifffile.imwrite(path, np.random.default_rng(0).random(shape).astype(np.float32))
    assert main(["-q", "detect", str(path), "-o", str(tmp_path / "out.csv"), "--device", "cpu"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert re.match(rf"^particle-detect: error: {re.escape(str(path))}: image is too small \(\(1, {shape[0]}\)\); "
                    r"need at least 8x8 pixels$", line)
    assert not (tmp_path / "out.csv").exists()


def test_the_centre_table_names_still_import_from_files_io():
    import napari_particle_detect.files.io as io
    from napari_particle_detect.files import centre_csv
    from napari_particle_detect.kinds import columns

    from napari_particle_detect.files import tables

    for name in ("read_centres", "write_centres", "COLUMN_ALIASES", "FIXED_PRECISION", "KNOWN_COLUMNS"):
        assert getattr(io, name) is getattr(centre_csv, name), name
    for name in ("without_saved_index", "SAVED_INDEX"):  # files/tables.py since kinds/registry reads it too
        assert getattr(io, name) is getattr(tables, name), name
    for name in ("table_kind", "KIND_COLUMNS", "KIND_SIGNATURES"):
        assert getattr(io, name) is getattr(columns, name), name
    assert io.table_kind(["frame", "y", "x", "angle", "length"]) == "rods"
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        io.no_such_name  # noqa: B018


def test_training_and_rounds_refuse_nan_voxels_which_detection_reads_as_gaps():
    volume = np.random.default_rng(1).random((8, 32, 32)).astype(np.float32)
    volume[:, 10:14] = np.nan
    # Detection fills the gaps; what learns from every voxel (volume training, rounds) is told in one line.
    assert np.isfinite(check_volume(volume, "v", gaps=True)).all()
    for refuse in (lambda: check_volume(volume, "v"), lambda: refuse_gaps(volume, "volume 0 (reviewed)")):
        with pytest.raises(ParticleDetectError, match=r"volume contains NaN or infinite voxels; training learns "
                                                      r"from every voxel: fill them first"):
            refuse()
    refuse_gaps(np.zeros((2, 4, 4), np.uint16), "whole numbers hold no NaN")


def test_an_msd_in_frames_fitted_without_lag_1_is_quoted_at_its_first_lag():
    units = {"lagt": "frames", "msd": "px²"}
    from_two = pd.DataFrame({"lagt": [1.0, 2.0, 3.0], "msd": [0.0, 8.0, 18.0]})  # nothing measured at lag 1
    line = describe_msd((2.0, 2.0), units, from_two)
    assert line.startswith("MSD = 8 px² at 2 frames, exponent 2.00, fitted over lags 2-3 frames"), line
    from_one = pd.DataFrame({"lagt": [1.0, 2.0], "msd": [2.0, 8.0]})
    assert describe_msd((2.0, 2.0), units, from_one).startswith("MSD = 2 px² at 1 frame,")


def test_resuming_a_chains_training_with_another_diameter_names_the_option(tmp_path):
    from napari_particle_detect.learning.training import check_same_settings

    with pytest.raises(ParticleDetectError, match=r"settings: diameter 22\.0 -> 30\.0 \(--diameter\); resume it"):
        check_same_settings(tmp_path / "state.pt", {"settings": {"diameter": 22.0}}, {"diameter": 30.0})


def test_a_range_part_naming_no_frame_is_refused_and_a_whole_stack_range_is_no_range():
    from napari_particle_detect.files.frame_ranges import frame_range, frames_in_range

    with pytest.raises(ParticleDetectError, match=r"--frames 0:5,-3:2 \(-3:2\) names none of its frames: it has 10"):
        frames_in_range("0:5,-3:2", 10, "m.tif")  # the -3:2 part was dropped in silence
    assert [frame_range(text) for text in (":", "0:", "0::1", " 0:10:1 ")] == [None, None, None, "0:10"]


def test_frames_kept_of_another_range_are_not_taken_for_this_ones(tmp_path):
    from napari_particle_detect.files.file_detection import DetectOptions, FramesSoFar, detect_file

    stack = np.zeros((4, 64, 64), np.float32)
    yy, xx = np.mgrid[:64, :64]
    for t in range(4):
        stack[t] = np.exp(-((yy - 20 - 4 * t) ** 2 + (xx - 30) ** 2) / 18.0)
    path = tmp_path / "s.tif"
    tifffile.imwrite(path, stack)
    elsewhere = FramesSoFar(parts=[(0, np.array([[1.0, 1.0]]), np.array([0.9]))])  # frame 0's, of a whole run
    table = detect_file(path, DetectOptions(frames="2:4", diameter=8.0), so_far=elsewhere).table
    assert sorted(set(table["frame"])) == [2, 3] and not (table["frame"] == 0).any()
