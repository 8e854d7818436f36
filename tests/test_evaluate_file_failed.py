"""``evaluate --file NAME`` of an input detect failed on (listed as ``failed`` in its .json: an unreadable image of a
folder run) says so in one line, naming the record: "no rows of file b.tif" read as a misspelt name. A name that is
no input of the run is still refused as one with no rows."""

from __future__ import annotations

from pathlib import Path

from test_cli_refusals import refused, run_cli
from test_evaluate_detected_frames import DETECT
from test_evaluate_failed_inputs import images  # noqa: F401


def test_file_of_an_input_detect_failed_on_names_the_failure(images, capsys):  # noqa: F811
    Path("f/b.tif").write_text("not an image")
    assert run_cli(capsys, "detect", "f", "-o", "centres.csv", *DETECT)[0] == 1  # b.tif failed, a.tif written

    failure = ("particle-detect: error: centres.csv: detect failed on f/b.tif (see centres.json): the table holds "
               "nothing of it")
    for name in ("b.tif", "f/b.tif"):
        assert refused(capsys, "evaluate", "centres.csv", "truth.csv", "--file", name) == failure
    assert refused(capsys, "evaluate", "centres.csv", "truth.csv", "--file", "c.tif") == (
        "particle-detect: error: centres.csv: no rows of file c.tif (its files: f/a.tif)")
