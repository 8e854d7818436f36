"""Counts said in plain words, not 'frame(s)': detect said '50 centres in 1 frame(s)' of a single image, and the
tables, recipes, cut-short files and warnings a user is told about said 'value(s)', 'key(s)', 'frame(s)' and
'warning(s)' of one as of many."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect._napari.notify import SHOWN_WARNINGS, show_warnings
from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.io import CutShort
from napari_particle_detect.files.tracks import compute_drift, link_centres, subtract_drift
from napari_particle_detect.learning.recipes import load_recipe
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import notification_count, notifications_since, tiny_model_file

CENTRES = pd.DataFrame({"frame": [0, 0, 1, 1, 2, 2], "y": [10.0, 30.0, 10.5, 30.5, 11.0, 31.0],
                        "x": [10.0, 30.0, 10.5, 30.5, 11.0, 31.0]})


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("counted-model"))


@pytest.mark.parametrize(("frames", "said"), [(1, "centres in 1 frame; "), (2, "centres in 2 frames; ")])
def test_detect_counts_the_frames_of_its_summary_line_in_words(tmp_path, capsys, tiny_model, frames: int,
                                                              said: str) -> None:
    images = [synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=i).image for i in range(frames)]
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, np.stack(images) if frames > 1 else images[0])

    code = main(["detect", str(path), "-o", str(tmp_path / "out.csv"), "--model", str(tiny_model), "--device", "cpu",
                 "--diameter", "10"])

    err = capsys.readouterr().err
    assert code == 0, err
    assert any(line.startswith(f"{path}: ") and said in line for line in err.splitlines()), err


@pytest.mark.parametrize(("bad", "said"), [(1, "holds 1 value that is not a whole number (the first: 0.5"),
                                           (2, "holds 2 values that are not whole numbers (the first: 0.5")])
def test_frames_that_are_not_whole_are_counted_with_their_verb(bad: int, said: str) -> None:
    frames = np.where(np.arange(len(CENTRES)) < bad, 0.5, CENTRES["frame"])

    with pytest.raises(ParticleDetectError) as refused:
        link_centres(CENTRES.assign(frame=frames), 5.0)

    assert f"linking: the frame column {said}" in str(refused.value)


def test_a_drift_without_one_frame_names_it_as_one() -> None:
    tracks = link_centres(CENTRES, 5.0)
    drift = compute_drift(tracks).drop(index=2)

    with pytest.raises(ParticleDetectError, match="the drift has no row for frame 2 of the tracks"):
        subtract_drift(tracks, drift)


@pytest.mark.parametrize(("keys", "said"), [("lr = 1\n", "unknown key lr;"), ("lr = 1\nepoch = 2\n",
                                                                               "unknown keys epoch (epochs?), lr;")])
def test_a_recipe_counts_its_unknown_keys_in_words(tmp_path, keys: str, said: str) -> None:
    path = tmp_path / "r.toml"
    path.write_text(f'name = "x"\n[[phase]]\nname = "a"\n{keys}')

    with pytest.raises(ParticleDetectError) as refused:
        load_recipe(path)

    assert f"phase 'a': {said}" in str(refused.value)


def test_a_file_cut_short_after_one_frame_says_one_frame(tmp_path) -> None:
    cut = CutShort(tmp_path / "cut.tif", readable=1, said=None)

    assert cut.refusal() == f"{tmp_path / 'cut.tif'}: corrupt or truncated: only 1 frame readable, the rest of the " \
                            "file is missing"
    assert cut.words == "the file is cut short: only 1 frame readable, the rest of the file is missing"
    assert CutShort(tmp_path / "cut.tif", readable=1, said=3).words == "the file is cut short: only 1 of 3 frames readable"


def test_one_warning_more_than_shown_is_one_warning() -> None:
    before = notification_count()

    show_warnings([f"warning {i}" for i in range(SHOWN_WARNINGS + 1)])

    assert notifications_since(before)[-1] == "and 1 more warning of the same detection (in the log)"
