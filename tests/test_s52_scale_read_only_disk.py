"""An output disk that turns read-only mid-run (the system remounts one so after an I/O error) stops a folder
run as a full one does: no later file is detected only to fail alike."""
from __future__ import annotations

import errno
from pathlib import Path

import pytest

from napari_particle_detect.cli.main import main
from napari_particle_detect.files import file_detection

from helpers import tiny_model_file
from test_distributed import write_images

FILES, WRITABLE = 6, 2  # the disk goes read-only once WRITABLE tables are on it


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("tiny"))


def disk_going_read_only(out: Path, attempts: Path):
    """detect's table writer on a disk remounted read-only after WRITABLE tables: each write noted in
    ``attempts``, the later ones failing as writes to a read-only file system do."""
    write = file_detection.write_centres

    def write_then_read_only(table, path, **kwargs):
        with open(attempts, "a") as noted:
            noted.write(f"{Path(path).name}\n")
        if len(list(Path(out).glob("*.csv"))) >= WRITABLE:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return write(table, path, **kwargs)

    return write_then_read_only


def test_a_disk_turned_read_only_stops_the_run_in_one_line_and_a_run_again_goes_on(tmp_path, tiny_model,
                                                                                    monkeypatch, capsys):
    write_images(tmp_path / "in", FILES)
    out, attempts = tmp_path / "out", tmp_path / "attempts.txt"
    command = ["-q", "detect", str(tmp_path / "in"), "-o", str(out), "--model", str(tiny_model), "--device", "cpu",
               "--diameter", "12", "--threshold", "0"]
    monkeypatch.setattr(file_detection, "write_centres", disk_going_read_only(out, attempts))
    code = main(command)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert err == [f"particle-detect: error: {out}: the disk holding it is read-only (Read-only file system writing "
                   f"image_{WRITABLE:02d}.csv); stopped with {WRITABLE} of {FILES} files done, {FILES - WRITABLE} "
                   "left: make it writable and run again (finished files are skipped)"]
    assert len(attempts.read_text().splitlines()) == WRITABLE + 1  # no file detected after the disk turned

    monkeypatch.undo()  # writable again
    assert main(command) == 0 and not capsys.readouterr().err
    assert len(list(out.glob("image_*.csv"))) == FILES
