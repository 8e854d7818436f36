"""Folder runs that share an output folder with another run, or whose output folder cannot be written."""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.distributed import detect_files
from napari_particle_detect.files.file_detection import file_digest

from helpers import tiny_model_file
from test_distributed import OPTIONS, write_images

FILES = 8

# One folder run in its own process, started once the test says go (both runs then reach the first file at once):
# prints how many files it detected and how many it skipped.
RUN = """
import json, sys, time
from pathlib import Path
from napari_particle_detect.files.distributed import detect_files
from napari_particle_detect.files.file_detection import DetectOptions

images, out, model, ready, go = map(Path, sys.argv[1:6])
options = DetectOptions(threshold=0.0, diameter=12.0, device="cpu", threads=1)
ready.touch()
while not go.exists():
    time.sleep(0.01)
summary = detect_files(images, out, options, model)
print(json.dumps({"done": len(summary.done), "skipped": len(summary.skipped), "failed": len(summary.failed)}))
"""


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("tiny"))


def start_runs(tmp_path: Path, images: Path, out: Path, model: Path, count: int) -> list[subprocess.Popen]:
    """``count`` folder runs of ``images`` into ``out`` in processes of their own, let go together."""
    go = tmp_path / "go"
    readies = [tmp_path / f"ready{i}" for i in range(count)]
    runs = [subprocess.Popen([sys.executable, "-c", RUN, str(images), str(out), str(model), str(ready), str(go)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for ready in readies]
    deadline = time.monotonic() + 60
    while not all(ready.exists() for ready in readies) and time.monotonic() < deadline:
        time.sleep(0.02)
    go.touch()
    return runs


def test_two_runs_into_one_folder_detect_each_file_once_and_leave_consistent_outputs(tmp_path, tiny_model):
    images = tmp_path / "images"
    write_images(images, FILES)
    out = tmp_path / "out"
    # One run in a process of its own, let go as this process runs the other: two processes, as two users' runs
    # are (a second child's start, torch imported again, took seconds).
    (other,) = start_runs(tmp_path, images, out, tiny_model, 1)
    here = detect_files(images, out, OPTIONS, tiny_model)
    counts = [{"done": len(here.done), "skipped": len(here.skipped), "failed": len(here.failed)}]
    stdout, stderr = other.communicate(timeout=120)
    assert other.returncode == 0, stderr
    counts.append(json.loads(stdout.strip().splitlines()[-1]))
    assert all(count["failed"] == 0 and count["done"] + count["skipped"] == FILES for count in counts)
    assert sum(count["done"] for count in counts) == FILES  # each file detected by one run only
    for table in sorted(out.glob("*.csv")):
        meta = json.loads(table.with_suffix(".json").read_text())
        assert meta["fingerprint"] is not None
        assert meta["tables"]["table"] == file_digest(table)
    # Nothing of the locks is left in the folder.
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"image_{i:02d}{suffix}" for i in range(FILES) for suffix in (".csv", ".json")] + ["particle-detect-run.json"])


def test_an_output_folder_below_a_file_is_refused_before_any_file_is_detected(tmp_path, tiny_model):
    images = tmp_path / "images"
    write_images(images, 3)
    (tmp_path / "a_file").write_text("not a folder")
    out = tmp_path / "a_file" / "out"
    told = []
    with pytest.raises(ParticleDetectError, match=rf"^{out}: cannot write the outputs there \(Not a directory\)"):
        detect_files(images, out, OPTIONS, tiny_model, progress=lambda path, status: told.append(status))
    assert told == []


def test_an_output_folder_that_stops_taking_files_stops_the_run(tmp_path, tiny_model):
    images = tmp_path / "images"
    write_images(images, 4)
    out = tmp_path / "out"

    def folder_replaced_by_a_file(path: Path, status: str) -> None:
        if status == "done" and out.is_dir():
            shutil.rmtree(out)
            out.write_text("the output folder is gone")

    summary = detect_files(images, out, OPTIONS, tiny_model, progress=folder_replaced_by_a_file)
    assert (len(summary.done), summary.failed, len(summary.left)) == (1, {}, 3)
    assert summary.stopped.startswith(f"{out}: cannot write the outputs there")
    assert "stopped with 1 of 4 files done, 3 left: make it writable and run again" in summary.stopped
