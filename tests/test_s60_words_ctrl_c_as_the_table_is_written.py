"""A Ctrl-C as detect wrote its table, every frame of a stack detected, left metadata marked unfinished and no table:
the whole run was to do again, and the line said only 'interrupted'. The frames are now kept as at any Ctrl-C, the
line says so, and the same command writes the table without detecting a frame again."""

from __future__ import annotations

import pandas as pd
import pytest

import napari_particle_detect.detection.prediction as prediction
import napari_particle_detect.files.centre_csv as centre_csv
from napari_particle_detect.files import file_detection

from test_cli_refusals import run_cli
from test_interrupted_movie_detect import write_movie

from helpers import tiny_model_file


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("written-model"))


def test_a_ctrl_c_as_the_table_is_written_keeps_every_frame(tmp_path, capsys, monkeypatch, tiny_model):
    detections, detect = [], prediction.iter_detect
    monkeypatch.setattr(prediction, "iter_detect", lambda *a, **k: detections.append(1) or detect(*a, **k))
    movie = write_movie(tmp_path / "movie.tif", frames=3)
    out = tmp_path / "out.csv"
    command = ("detect", movie, "-o", out, "--model", tiny_model, "--device", "cpu", "--diameter", "10")
    real = centre_csv.write_centres
    assert file_detection.write_centres is real  # the frames kept are written by it, imported before the patch

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(centre_csv, "write_centres", stopped)  # the finished table's write, not the frames kept
        code, _, err = run_cli(capsys, *command)
    assert code == 130
    assert err.strip().splitlines()[-1] == (f"particle-detect: interrupted; as the table was written, every frame "
                                            f"detected: they are in {out}; run the same command again to go on")
    kept = pd.read_csv(out)
    assert centre_csv.write_centres is real and sorted(set(kept["frame"])) == [0, 1, 2]
    code, _, err = run_cli(capsys, *command)
    assert code == 0, err
    assert detections == [1]  # detected once, by the first run
    assert len(pd.read_csv(out)) == len(kept) and "unfinished" not in out.with_suffix(".json").read_text()
