"""A folder run whose output disk fills: it stops starting files, says so once, and a run again goes on."""

import errno
import json
from pathlib import Path

import pytest

from napari_particle_detect.cli.main import main
from napari_particle_detect.files import file_detection
from napari_particle_detect.files.distributed import detect_files

from helpers import tiny_model_file
from test_distributed import OPTIONS, write_images

FILES, ROOM = 12, 3  # the disk holds ROOM tables


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("tiny"))


def disk_holding(tables: int, out: Path, attempts: Path):
    """detect's table writer on a disk with room for ``tables`` tables in ``out``: each write is noted in
    ``attempts``, and once the room is taken it fails as a full disk does."""
    write = file_detection.write_centres

    def write_on_a_small_disk(table, path, **kwargs):
        with open(attempts, "a") as noted:
            noted.write(f"{Path(path).name}\n")
        if len(list(Path(out).glob("*.csv"))) >= tables:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return write(table, path, **kwargs)

    return write_on_a_small_disk


def outputs(out: Path) -> list[str]:
    """The files' outputs, without the run's record (particle-detect-run.json), rewritten by every run."""
    return sorted(p.name for p in out.iterdir() if p.name != "particle-detect-run.json")


def expected_outputs(names: list[str]) -> list[str]:
    return sorted(f"{name}{suffix}" for name in names for suffix in (".csv", ".json"))


def test_a_full_disk_stops_the_run_in_one_line_and_a_run_again_goes_on(tmp_path, tiny_model, monkeypatch, capsys):
    paths = write_images(tmp_path / "in", FILES)
    out, attempts = tmp_path / "out", tmp_path / "attempts.txt"
    command = ["-q", "detect", str(tmp_path / "in"), "-o", str(out), "--model", str(tiny_model), "--device", "cpu",
               "--diameter", "12", "--threshold", "0"]
    monkeypatch.setattr(file_detection, "write_centres", disk_holding(ROOM, out, attempts))
    code = main(command)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [f"particle-detect: error: {out}: the disk holding it is full (No space left on device writing "
                   f"image_{ROOM:02d}.csv); stopped with {ROOM} of {FILES} files done, {FILES - ROOM} left: free space "
                   "and run again (finished files are skipped)"]
    assert len(attempts.read_text().splitlines()) == ROOM + 1  # no file detected after the disk was found full
    record = json.loads((out / "particle-detect-run.json").read_text())
    assert record["stopped"] == err[0].removeprefix("particle-detect: error: ") and len(record["left"]) == FILES - ROOM
    finished = expected_outputs([p.stem for p in paths[:ROOM]])
    assert outputs(out) == finished  # nor a table half written, nor metadata of one
    stamps = {name: (out / name).stat().st_mtime_ns for name in finished}

    monkeypatch.undo()  # space freed
    assert main(command) == 0 and not capsys.readouterr().err
    assert outputs(out) == expected_outputs([p.stem for p in paths])
    assert all((out / name).stat().st_mtime_ns == stamp for name, stamp in stamps.items())  # skipped, untouched


def test_on_a_cluster_a_full_disk_cancels_the_files_not_started(tmp_path, tiny_model, monkeypatch):
    from distributed import Client, LocalCluster

    paths = write_images(tmp_path / "in", FILES)
    out, attempts = tmp_path / "out", tmp_path / "attempts.txt"
    monkeypatch.setattr(file_detection, "write_centres", disk_holding(ROOM, out, attempts))
    # A worker in this process, so that it writes on the small disk too.
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0")
    try:
        with Client(cluster) as client:
            summary = detect_files(paths, out, OPTIONS, tiny_model, client)
    finally:
        cluster.close()
    assert not summary.ok and not summary.failed
    assert [r.path for r in summary.done] == paths[:ROOM] and summary.left == paths[ROOM:]
    assert summary.stopped.startswith(f"{out}: the disk holding it is full (No space left on device writing ")
    assert f"stopped with {ROOM} of {FILES} files done, {FILES - ROOM} left" in summary.stopped
    # The one failing file and those the worker had already been given; dask cancelled the rest.
    assert len(attempts.read_text().splitlines()) <= ROOM + 3
    assert outputs(out) == expected_outputs([p.stem for p in paths[:ROOM]])

    monkeypatch.undo()  # space freed
    again = detect_files(paths, out, OPTIONS, tiny_model)
    assert again.ok and again.skipped == paths[:ROOM] and [r.path for r in again.done] == paths[ROOM:]
