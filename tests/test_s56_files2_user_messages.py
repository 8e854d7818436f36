"""One line where a user met nothing or a raw error: link on a table a stopped detect left unfinished (evaluate
warned, link said nothing), a CSV that is not UTF-8 (Excel's Latin-1 "µm" header: a UnicodeDecodeError), and an
empty --scheduler address (': not a scheduler address (missing port number in address '')')."""

from __future__ import annotations

from pathlib import Path

import pytest
import tifffile

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import tiny_model_file
from test_cli_refusals import refused, run_cli
from test_interrupted_movie_detect import stop_after, write_movie

UNFINISHED = ("centres.csv: frames 0-4 of data/movie.tif detected (a run left unfinished): its tracks end there; "
              "run the same detect command again to finish it")


def test_link_warns_of_a_table_a_stopped_detect_left_unfinished(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    movie = write_movie(Path("data/movie.tif"), frames=8)
    detect = ("detect", movie, "-o", "centres.csv", "--model", tiny_model_file(tmp_path), "--device", "cpu",
              "--diameter", "12", "--threshold", "0.0")
    with monkeypatch.context() as patch:
        stop_after(patch, 5, KeyboardInterrupt())
        assert run_cli(capsys, *detect)[0] == 130
    code, _, err = run_cli(capsys, "link", "centres.csv", "-o", "tracks.csv")
    assert (code, err.strip().splitlines()) == (0, [UNFINISHED])
    assert run_cli(capsys, *detect)[0] == 0  # the same command finishes it
    code, _, err = run_cli(capsys, "link", "centres.csv", "-o", "tracks.csv", "--overwrite")
    assert (code, err.strip()) == (0, "")


LATIN_1 = "frame,y,x,diameter_µm\n0,10,12,3.1\n1,11,12,3.0\n".encode("latin-1")


@pytest.mark.parametrize("command", ["link", "evaluate"])
def test_a_csv_that_is_not_utf8_is_one_line_saying_so_and_how_to_save_it(tmp_path, monkeypatch, capsys, command):
    monkeypatch.chdir(tmp_path)
    Path("excel.csv").write_bytes(LATIN_1)
    Path("truth.csv").write_text("frame,y,x\n0,10,12\n")
    args = ("link", "excel.csv", "-o", "tracks.csv") if command == "link" else ("evaluate", "excel.csv", "truth.csv")
    line = refused(capsys, *args)
    assert line == ("particle-detect: error: excel.csv: not UTF-8 text (byte 0xB5 on line 1); save it as UTF-8 "
                    "(CSV UTF-8 in Excel)")


def test_an_empty_scheduler_address_is_said_as_such(tmp_path, monkeypatch, capsys):
    from napari_particle_detect.files.distributed import scheduler_client

    monkeypatch.chdir(tmp_path)
    Path("in").mkdir()
    tifffile.imwrite("in/a.tif", synthesize(benchmark_config("fluorescent", 0.4, shape=(64, 64)), seed=0).image)
    for address in ("", "  "):
        line = refused(capsys, "detect", "in", "-o", "out/", "--scheduler", address)
        assert line == "particle-detect: error: an empty scheduler address; give tcp://HOST:PORT"
    with pytest.raises(ParticleDetectError, match="^an empty scheduler address; give tcp://HOST:PORT$"):
        scheduler_client("")
