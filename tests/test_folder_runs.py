"""Folder runs of many files (detect FOLDER/ -o OUT/, distributed.detect_files): another file's results are
never replaced unasked, a changed input that now fails does not leave its old table passing for its own, the
run is recorded in the output folder, names are recorded as given on a cluster too, only a killed writer's
temporaries are tidied, and the library takes folders and globs as the command line does."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import tifffile

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files import io
from napari_particle_detect.files.distributed import detect_files
from napari_particle_detect.files.file_detection import is_finished

from helpers import tiny_model_file
from test_cli_refusals import files_in, refused, run_cli
from test_distributed import OPTIONS, write_images


RUN_RECORD = "particle-detect-run.json"  # as the README names it


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("folder-runs-model"))


def cli_options(model: Path) -> tuple:
    return ("--model", model, "--device", "cpu", "--diameter", "12", "--threshold", "0")


def run_record(out: Path) -> dict:
    return json.loads((out / RUN_RECORD).read_text())


def test_a_folder_run_refuses_to_replace_another_files_results_unless_overwrite(tmp_path, tiny_model, capsys,
                                                                               monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_images(Path("data/day1"), 1)
    write_images(Path("data/day2"), 1)
    tifffile.imwrite("data/day2/image_00.tif", tifffile.imread("data/day2/image_00.tif")[::-1])  # another image
    assert run_cli(capsys, "detect", "data/day1/", "-o", "res/", *cli_options(tiny_model))[0] == 0
    before = files_in(Path("res"))
    line = refused(capsys, "detect", "data/day2/", "-o", "res/", *cli_options(tiny_model))
    held = tmp_path / "data" / "day1" / "image_00.tif"
    assert line == (f"particle-detect: error: {Path('res/image_00.csv')}: holds the results of another file, {held}, "
                    f"which {Path('data/day2/image_00.tif')}'s would replace; choose another output folder, or give "
                    "--overwrite to replace them")
    assert files_in(Path("res")) == before  # refused before any work: nothing replaced, no record rewritten
    # The same file named otherwise (absolute, other options) is its own output: replaced, not refused.
    assert run_cli(capsys, "detect", tmp_path / "data" / "day1", "-o", "res/", *cli_options(tiny_model),
                   "--threshold", "0.3")[0] == 0
    # A moved input folder: its images are other files now, told by the absolute path recorded.
    os.rename("data/day1", "data/archive")
    moved = r"another file, .*day1.image_00\.tif, which data.archive.image_00\.tif's would replace; .* pass overwrite="
    with pytest.raises(ParticleDetectError, match=moved):
        detect_files(["data/archive"], "res", OPTIONS, tiny_model)
    code, _, err = run_cli(capsys, "detect", "data/day2/", "-o", "res/", *cli_options(tiny_model), "--overwrite")
    assert code == 0, err
    assert json.loads(Path("res/image_00.json").read_text())["inputs"][0]["file"] == str(Path("data/day2/image_00.tif"))


def test_a_changed_input_that_now_fails_leaves_its_old_table_marked_failed_and_the_run_recorded(
        tmp_path, tiny_model, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = write_images(Path("exp2"), 2)
    command = ("detect", "exp2/", "-o", "o_exp2/", *cli_options(tiny_model))
    assert run_cli(capsys, *command)[0] == 0
    table, meta = Path("o_exp2/image_01.csv"), Path("o_exp2/image_01.json")
    old_table, image = table.read_bytes(), paths[1].read_bytes()
    paths[1].write_bytes(b"not a TIFF at all")  # the image replaced by a broken file
    code, _, err = run_cli(capsys, *command)
    assert code == 1 and f"failed: {paths[1]}: cannot read image" in err
    assert table.read_bytes() == old_table  # nothing lost: the table stays, as it may hold edits ...
    marked = json.loads(meta.read_text())
    assert marked["fingerprint"] is None and not is_finished(paths[1], table, OPTIONS, tiny_model)
    assert [entry["file"] for entry in marked["failed"]] == [str(paths[1])]  # ... but says it is not this image's
    assert marked["failed"][0]["reason"].startswith(f"{paths[1]}: cannot read image")
    record = run_record(Path("o_exp2"))
    assert record["command"].startswith("particle-detect ") and record["done"] == [] and not record["left"]
    assert record["skipped"] == [{"file": str(paths[0]), "output": "image_00.csv"}]
    assert [(entry["file"], entry["output"]) for entry in record["failed"]] == [(str(paths[1]), "image_01.csv")]
    assert record["failed"][0]["reason"] == marked["failed"][0]["reason"]
    assert not list(Path("o_exp2").glob(".*tmp"))
    # The image mended: detected again, its .json clean.
    paths[1].write_bytes(image)
    assert run_cli(capsys, *command)[0] == 0
    assert "failed" not in json.loads(meta.read_text()) and table.read_bytes() != b""
    record = run_record(Path("o_exp2"))
    assert [entry["file"] for entry in record["done"]] == [str(paths[1])] and record["failed"] == []


def test_the_run_record_replaces_no_file_of_the_users_nor_an_outputs_metadata(tmp_path, tiny_model):
    (path,) = write_images(tmp_path / "in", 1)
    out = tmp_path / "out"
    out.mkdir()
    (out / RUN_RECORD).write_text('{"my": "notes"}')
    with pytest.raises(ParticleDetectError, match=f"{RUN_RECORD}: exists and is not the record of an earlier folder"):
        detect_files([path], out, OPTIONS, tiny_model)
    assert (out / RUN_RECORD).read_text() == '{"my": "notes"}' and not (out / "image_00.csv").exists()
    named = path.with_name("particle-detect-run.tif")
    path.rename(named)
    with pytest.raises(ParticleDetectError, match="would be both the metadata of particle-detect-run.csv and this"):
        detect_files([named], tmp_path / "out2", OPTIONS, tiny_model)
    assert not (tmp_path / "out2").exists()


def test_on_a_cluster_the_json_and_failure_lines_name_the_inputs_as_a_run_here_does(tmp_path, tiny_model,
                                                                                     monkeypatch):
    from distributed import Client, LocalCluster

    monkeypatch.chdir(tmp_path)
    write_images(Path("in"), 2, corrupt=1)
    names = [Path("in/image_00.tif"), Path("in/image_01.tif")]
    here = detect_files(names, "here", OPTIONS, tiny_model)
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0")
    try:
        with Client(cluster) as client:
            there = detect_files(names, "there", OPTIONS, tiny_model, client)
    finally:
        cluster.close()
    assert there.failed == here.failed and here.failed[names[1]].startswith("in/image_01.tif: cannot read image")
    recorded = [json.loads(Path(folder, "image_00.json").read_text())["inputs"] for folder in ("here", "there")]
    assert recorded[0][0]["file"] == recorded[1][0]["file"] == "in/image_00.tif"
    assert Path("here/image_00.csv").read_bytes() == Path("there/image_00.csv").read_bytes()
    assert run_record(Path("there"))["failed"] == run_record(Path("here"))["failed"]


def test_only_a_killed_writers_temporaries_of_exactly_these_outputs_are_removed(tmp_path, tiny_model, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    own = [out / ".a.csv.k1ll3d_x.tmp", out / ".a.json.k1ll3d_x.tmp", out / ".a.csv.k1ll3d_x.old.tmp"]
    neighbours = [out / ".a.1.csv.k1ll3d_x.tmp", out / ".a.1.json.k1ll3d_x.tmp", out / ".a.csv.notes"]
    for path in own + neighbours:
        path.write_text("half")
    outputs = [out / "a.csv", out / "a.json"]
    assert io.remove_stale_temporaries(outputs) == []  # fresh: a live writer's, perhaps
    monkeypatch.setattr(io, "STALE_TEMPORARY_S", 0.2)
    time.sleep(0.4)
    assert sorted(io.remove_stale_temporaries(outputs)) == sorted(own)
    assert all(p.exists() for p in neighbours) and not any(p.exists() for p in own)
    # A run leaves a temporary being written now beside its output alone.
    monkeypatch.undo()
    (path,) = write_images(tmp_path / "in", 1)
    live = out / ".image_00.csv.l1ve0000.tmp"
    live.write_text("being written")
    assert detect_files([path], out, OPTIONS, tiny_model).ok and live.read_text() == "being written"


def test_detect_files_takes_folders_and_globs_as_the_command_line(tmp_path, tiny_model, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = write_images(Path("exp"), 2)
    (Path("exp") / "notes.txt").write_text("not an image")
    from_folder = detect_files("exp/", "out/", OPTIONS, tiny_model)
    assert from_folder.ok and [result.path for result in from_folder.done] == paths
    from_glob = detect_files(["exp/*.tif"], "out/", OPTIONS, tiny_model)
    assert from_glob.ok and from_glob.skipped == paths
    with pytest.raises(ParticleDetectError, match=r"exp/\*\.png: no image files match"):
        detect_files("exp/*.png", "out/", OPTIONS, tiny_model)
