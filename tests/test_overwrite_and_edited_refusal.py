"""An output of a folder run that holds another file's results (--overwrite) and a table edited by hand
(--replace-edited) needs both options: the refusal names both, not the first alone, after which the run given
that one was refused again for the other. Where one option is enough, the refusal names that one only."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.distributed import detect_files
from napari_particle_detect.files.file_detection import DetectOptions

from test_cli_refusals import refused, run_cli

DETECT = ("--device", "cpu", "--threshold", "0.35")


@pytest.fixture
def days(tmp_path, monkeypatch, capsys) -> Path:
    """One image as day1/x.tif, day1/y.tif, day2/x.tif and day2/y.tif: day1's detected into res/."""
    monkeypatch.chdir(tmp_path)
    assert run_cli(capsys, "synth", "s", "--n", 1, "--shape", 64, 64)[0] == 0
    for day in ("day1", "day2"):
        Path(day).mkdir()
        for name in ("x.tif", "y.tif"):
            shutil.copy("s/image_000.tif", Path(day, name))
    assert run_cli(capsys, "detect", "day1/x.tif", "-o", "res/", *DETECT)[0] == 0
    return Path("res")


def edit(table: Path) -> None:
    with open(table, "a") as handle:
        handle.write("0,1.0,1.0,0.9\n")


def test_an_output_of_another_file_and_edited_by_hand_is_refused_naming_both_options(days, capsys):
    another = (f"res/x.csv: holds the results of another file, {Path('day1/x.tif').resolve()}, which day2/x.tif's "
               "would replace; choose another output folder, or give --overwrite to replace them")
    assert refused(capsys, "detect", "day2/x.tif", "-o", "res/", *DETECT) == f"particle-detect: error: {another}"

    edit(days / "x.csv")
    assert refused(capsys, "detect", "day2/x.tif", "-o", "res/", *DETECT) == (
        f"particle-detect: error: {another}, and give --replace-edited too: res/x.csv changed since detect wrote it "
        "(edited by hand?)")
    assert refused(capsys, "detect", "day2/x.tif", "-o", "res/", "--overwrite", *DETECT) == (
        "particle-detect: error: res/x.csv: changed since detect wrote it (edited by hand?); move it, or give "
        "--replace-edited to replace it")
    assert run_cli(capsys, "detect", "day2/x.tif", "-o", "res/", "--overwrite", "--replace-edited", *DETECT)[0] == 0


def test_a_library_run_names_both_arguments_where_one_output_needs_each(days, capsys):
    assert run_cli(capsys, "detect", "day2/y.tif", "-o", "res/", *DETECT)[0] == 0
    edit(days / "y.csv")
    options = DetectOptions(device="cpu", threshold=0.5)  # not y.csv's: detected again, so its edits are replaced

    with pytest.raises(ParticleDetectError) as refusal:
        detect_files(["day2/x.tif", "day2/y.tif"], days, options)
    assert str(refusal.value).endswith("or pass overwrite=True to replace them, and pass replace_edited=True too: "
                                       "res/y.csv changed since detect wrote it (edited by hand?)")
    with pytest.raises(ParticleDetectError, match="res/y.csv: changed since detect wrote it"):
        detect_files(["day2/x.tif", "day2/y.tif"], days, options, overwrite=True)
