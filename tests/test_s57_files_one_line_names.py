"""A file name holding a line break (or a terminal's escape) is shown escaped in a refusal, which stays one line: named
raw, it split the message over two."""

from __future__ import annotations

import pandas as pd

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError


def test_a_refusal_naming_a_file_with_a_line_break_is_one_line(tmp_path, capsys):
    truth = tmp_path / "truth.csv"
    pd.DataFrame({"y": [1.0], "x": [2.0]}).to_csv(truth, index=False)
    missing = tmp_path / "day\n1.csv"
    assert main(["-q", "evaluate", str(missing), str(truth)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [f"particle-detect: error: {tmp_path}/day\\n1.csv: file not found"]


def test_control_characters_are_escaped_and_the_rest_kept():
    message = str(ParticleDetectError("a\r\x1b[31mb\u2028c.tif: naïve µm\tname"))
    assert message == "a\\r\\x1b[31mb\\u2028c.tif: naïve µm\tname" and len(message.splitlines()) == 1
