"""Many files: one job per file on dask.distributed or in process, a bad file reported, resuming after a kill."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.files.distributed import close_local_client, detect_files, local_client
from napari_particle_detect.files.file_detection import DetectOptions, detect_file, expand_inputs, output_paths
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import tiny_model_file
from helpers_proc import closed_at_once

OPTIONS = DetectOptions(threshold=0.0, diameter=12.0, device="cpu", threads=1)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def worker_process_cluster():
    """A LocalCluster of one worker process, for the tests that need a worker outside this process: a worker
    process's start (torch and this package imported) took seconds of each. Each test puts back what it changed in
    the worker."""
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0")
    yield cluster
    closed_at_once(cluster)


def write_images(folder: Path, n: int, corrupt: int | None = None) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"image_{i:02d}.tif"
        if i == corrupt:
            path.write_bytes(b"not a TIFF at all")
        else:
            tifffile.imwrite(path, synthesize(benchmark_config("fluorescent", 0.4, shape=(96, 80)), seed=i).image)
        paths.append(path)
    return paths


def test_two_worker_processes_over_six_files_one_corrupt(tmp_path, tiny_model):
    paths = write_images(tmp_path / "in", 6, corrupt=3)
    client = local_client(2)
    try:
        assert len(client.scheduler_info()["workers"]) == 2
        seen = []
        summary = detect_files(paths, tmp_path / "out", OPTIONS, tiny_model, client,
                               progress=lambda path, status: seen.append((path.name, status)))
    finally:
        close_local_client(client, quietly=True)  # its workers killed: closed gracefully, they took a second or more
    assert [r.path for r in summary.done] == [p for i, p in enumerate(paths) if i != 3]
    assert list(summary.failed) == [paths[3]] and "image_03.tif: cannot read image" in summary.failed[paths[3]]
    assert sorted(seen) == sorted((p.name, "failed" if i == 3 else "done") for i, p in enumerate(paths))
    for i, path in enumerate(paths):
        output = tmp_path / "out" / f"image_{i:02d}.csv"
        if i == 3:
            assert not output.exists() and not output.with_suffix(".json").exists()
            continue
        alone = detect_file(path, OPTIONS, tiny_model).table
        written = pd.read_csv(output)
        assert len(written) == len(alone) > 0
        assert np.abs(written[["y", "x", "score"]].to_numpy() - alone[["y", "x", "score"]].to_numpy()).max() <= 5e-4
    assert not list((tmp_path / "out").glob(".*tmp"))


def test_cli_folder_output_reports_the_bad_file_and_goes_on(tmp_path, tiny_model, capsys):
    write_images(tmp_path / "in", 3, corrupt=1)
    code = main(["-q", "detect", str(tmp_path / "in" / "*.tif"), "-o", str(tmp_path / "out"), "--model",
                 str(tiny_model), "--device", "cpu", "--diameter", "12"])
    err = capsys.readouterr().err
    assert code == 1
    assert "image_01.tif: cannot read image" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["image_00.csv", "image_00.json",
                                                                   "image_02.csv", "image_02.json",
                                                                   "particle-detect-run.json"]


def test_a_killed_run_resumes_and_skips_finished_files(tmp_path, tiny_model, monkeypatch):
    from napari_particle_detect.files import io

    paths = write_images(tmp_path / "in", 6)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "napari_particle_detect.cli.main", "-q", "detect", str(tmp_path / "in"), "-o",
               str(out), "--model", str(tiny_model), "--device", "cpu", "--diameter", "12", "--threshold", "0"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 120
    def finished_outputs() -> set[str]:
        """Inputs whose metadata carries its fingerprint (written last); an unfinished one has none."""
        done = set()
        for meta in out.glob("*.json"):
            try:
                if json.loads(meta.read_text()).get("fingerprint"):
                    done.add(meta.with_suffix(".tif").name)
            except ValueError:
                continue
        return done

    while not finished_outputs() and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.02)
    run.send_signal(signal.SIGKILL)
    run.wait()
    finished = finished_outputs()
    assert finished, "the run was killed before any file was finished"
    # A file killed mid-write (its table there, its metadata still unfinished) is done again, not refused.
    unfinished = next((p for p in paths[:-1] if p.name not in finished), None)
    if unfinished is not None:
        (out / unfinished.with_suffix(".csv").name).write_text("frame,y,x,score\n0,1.0,2.0,0.5\n")
        (out / unfinished.with_suffix(".json").name).write_text(json.dumps({"inputs": [], "fingerprint": None}))
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("image_*")}
    changed = paths[-1]
    changed.write_bytes(changed.read_bytes())  # rewritten: must be done again even if it was finished
    os.utime(changed, ns=(time.time_ns(), time.time_ns() + 10**9))
    # The kill may land mid-write, leaving a temporary only seconds old, which the age rule spares as possibly a
    # live writer's; here it is the killed run's, so it counts as stale once the run is gone.
    monkeypatch.setattr(io, "STALE_TEMPORARY_S", 0.2)
    time.sleep(0.4)
    seen = {}
    summary = detect_files(paths, out, DetectOptions(threshold=0.0, diameter=12.0, device="cpu", threads=1),
                           tiny_model, progress=lambda path, status: seen.__setitem__(path.name, status))
    assert summary.ok and len(summary.done) + len(summary.skipped) == 6
    for path in paths:
        expected = "done" if path.name not in finished or path == changed else "skipped"
        assert seen[path.name] == expected, path.name
        if expected == "skipped":
            for suffix in (".csv", ".json"):
                name = path.with_suffix(suffix).name
                assert (out / name).stat().st_mtime_ns == stamps[name]  # untouched
    assert sorted(p.name for p in out.glob("*.csv")) == [p.with_suffix(".csv").name for p in paths]
    assert not list(out.glob(".*tmp"))
    again = detect_files(paths, out, DetectOptions(threshold=0.0, diameter=12.0, device="cpu"), tiny_model)
    assert not again.done and len(again.skipped) == 6
    other = detect_files(paths[:2], out, DetectOptions(threshold=0.5, diameter=12.0, device="cpu"), tiny_model)
    assert len(other.done) == 2  # other options: not the same output any more


def test_an_output_folder_never_replaces_files_detect_did_not_write(tmp_path, tiny_model, capsys):
    paths = write_images(tmp_path / "data", 2)
    truth = tmp_path / "data" / "image_00.csv"
    truth.write_text("y,x\n1,2\n")  # ground truth beside its image
    code = main(["-q", "detect", str(tmp_path / "data"), "-o", str(tmp_path / "data"), "--model", str(tiny_model),
                 "--device", "cpu", "--diameter", "12"])
    assert code == 2 and "image_00.csv: exists and is not an earlier output of detect" in capsys.readouterr().err
    assert truth.read_text() == "y,x\n1,2\n" and not (tmp_path / "data" / "image_01.csv").exists()
    # One input: -o an existing folder is not a table's name (as before); a trailing / makes it the output folder.
    (tmp_path / "out").mkdir()
    code = main(["-q", "detect", str(paths[1]), "-o", str(tmp_path / "out"), "--model", str(tiny_model), "--device", "cpu"])
    assert code == 2 and "is a folder" in capsys.readouterr().err
    code = main(["-q", "detect", str(paths[1]), "-o", str(tmp_path / "out") + "/", "--model", str(tiny_model),
                 "--device", "cpu", "--diameter", "12"])
    assert code == 0 and (tmp_path / "out" / "image_01.csv").exists()


def test_inputs_from_folders_globs_and_zarr(tmp_path):
    zarr = pytest.importorskip("zarr")
    paths = write_images(tmp_path / "a", 2)
    write_images(tmp_path / "b", 1)
    zarr.open(str(tmp_path / "a" / "movie.zarr"), mode="w", shape=(2, 16, 16), dtype="u1")
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    found = expand_inputs([tmp_path / "a", str(tmp_path / "b" / "*.tif"), paths[0]])
    assert [p.name for p in found] == ["image_00.tif", "image_01.tif", "movie.zarr", "image_00.tif"]
    outputs = output_paths(found, tmp_path / "out")
    assert [str(p.relative_to(tmp_path / "out")) for p in outputs] == [
        "a/image_00.csv", "a/image_01.csv", "a/movie.csv", "b/image_00.csv"]
    from napari_particle_detect.errors import ParticleDetectError

    with pytest.raises(ParticleDetectError, match="no image files match"):
        expand_inputs([str(tmp_path / "c" / "*.tif")])
    tifffile.imwrite(tmp_path / "a" / "image_00.tiff", np.zeros((8, 8), np.uint8))
    with pytest.raises(ParticleDetectError, match="would also be"):
        output_paths(expand_inputs([tmp_path / "a"]), tmp_path / "out")


def test_a_rerun_clears_what_a_killed_run_left_half_written_and_nothing_else(tmp_path, tiny_model, monkeypatch):
    from napari_particle_detect.files import io

    paths = write_images(tmp_path / "in", 2)
    out = tmp_path / "out"
    out.mkdir()
    leftovers = [out / ".image_00.csv.k1ll3d.tmp", out / ".image_00.json.k1ll3d.tmp"]
    others = [out / ".image_000.csv.other.tmp", out / ".notes.txt"]  # not this run's outputs
    for path in leftovers + others:
        path.write_text("half")
    monkeypatch.setattr(io, "STALE_TEMPORARY_S", 0.2)  # a killed run's: untouched for longer than a live writer's
    time.sleep(0.4)
    summary = detect_files(paths, out, DetectOptions(threshold=0.0, diameter=12.0, device="cpu", threads=1), tiny_model)
    assert summary.ok and len(summary.done) == 2
    assert not any(p.exists() for p in leftovers) and all(p.exists() for p in others)


def test_relative_paths_reach_workers_that_run_in_another_folder(tmp_path, tiny_model, monkeypatch,
                                                                worker_process_cluster):
    from distributed import Client

    write_images(tmp_path / "run" / "data" / "a", 2)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "data" / "a").mkdir(parents=True)  # the same names there, but no images
    cluster = worker_process_cluster
    with Client(cluster) as client:
        (started_in,) = client.run(os.getcwd).values()
        client.run(os.chdir, str(elsewhere))  # a worker started from another working folder
    try:
        monkeypatch.chdir(tmp_path / "run")
        code = main(["-q", "detect", "data/a", "-o", "out/", "--scheduler", cluster.scheduler_address, "--model",
                     str(tiny_model), "--device", "cpu", "--diameter", "12"])
    finally:
        with Client(cluster) as client:
            client.run(os.chdir, started_in)
    assert code == 0
    out = tmp_path / "run" / "out"
    assert sorted(p.name for p in out.iterdir()) == ["image_00.csv", "image_00.json", "image_01.csv", "image_01.json",
                                                     "particle-detect-run.json"]
    assert not (elsewhere / "out").exists()
    # The names the user gave, as a run without workers records them.
    assert json.loads((out / "image_00.json").read_text())["inputs"][0]["file"] == str(Path("data/a/image_00.tif"))


def test_a_shipped_model_named_by_its_name_in_folder_mode(tmp_path, monkeypatch, capsys):
    from napari_particle_detect.shipped import WEIGHTS_DIR

    write_images(tmp_path / "d", 2)
    monkeypatch.chdir(tmp_path)  # no file unet-wide(.pt) here: the name is the shipped model's
    code = main(["-q", "detect", "d", "-o", "out/", "--model", "unet-wide", "--device", "cpu", "--diameter", "12"])
    assert code == 0, capsys.readouterr().err
    meta = json.loads((tmp_path / "out" / "image_01.json").read_text())
    assert meta["model"] == str(WEIGHTS_DIR / "unet-wide.pt")
    csv_mode = main(["-q", "detect", "d/image_01.tif", "-o", "one.csv", "--model", "unet-wide", "--device", "cpu",
                     "--diameter", "12"])
    assert csv_mode == 0 and pd.read_csv(tmp_path / "one.csv").equals(pd.read_csv(tmp_path / "out" / "image_01.csv"))


def test_a_local_cluster_starts_quietly_while_another_dashboard_holds_its_port():
    import socket
    import warnings

    holder = socket.socket()
    try:
        holder.bind(("", 8787))  # as another cluster's dashboard would
        holder.listen()
    except OSError:
        pass  # already held by another program: the case itself
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            client = local_client(1)
            cluster = client.cluster
            client.close()
            cluster.close()
    finally:
        holder.close()
    assert not [w for w in caught if "already in use" in str(w.message)], [str(w.message) for w in caught]


def test_detect_files_takes_a_file_named_twice_once_and_says_a_missing_one_is_missing(tmp_path, tiny_model):
    (path,) = write_images(tmp_path / "in", 1)
    twice = detect_files([path, tmp_path / "in" / ".." / "in" / path.name], tmp_path / "out", OPTIONS, tiny_model)
    assert twice.ok and [r.path for r in twice.done] == [path]
    missing = tmp_path / "in" / "gone.tif"
    seen = []
    summary = detect_files([missing, path], tmp_path / "out2", OPTIONS, tiny_model,
                           progress=lambda p, status: seen.append((p.name, status)))
    assert summary.failed == {missing: f"{missing}: file not found"}
    assert [r.path for r in summary.done] == [path] and sorted(seen) == [("gone.tif", "failed"), (path.name, "done")]


def test_a_shipped_model_travels_by_name_to_a_worker_installed_elsewhere(tmp_path, tiny_model, monkeypatch,
                                                                       worker_process_cluster):
    """`--model unet-wide` on a cluster: the worker's package lives elsewhere (another machine's virtualenv),
    where the client's path to the shipped weights names nothing; the worker reads its own copy."""
    import shutil

    from distributed import Client

    import napari_particle_detect.detection.kinds_prediction as kinds_prediction
    import napari_particle_detect.models.registry as registry
    import napari_particle_detect.shipped as shipped
    from napari_particle_detect.errors import ParticleDetectError
    from napari_particle_detect.files import distributed as files_distributed

    def install(site: Path) -> Path:
        weights = site / "napari_particle_detect" / "weights"
        weights.mkdir(parents=True)
        for name in ("unet-wide.pt", "unet-wide.json"):
            shutil.copy(shipped.WEIGHTS_DIR / name, weights / name)
        return weights

    shipped_weights = shipped.WEIGHTS_DIR
    client_weights, worker_weights = install(tmp_path / "client-site"), install(tmp_path / "worker-site")
    for module in (shipped, registry, kinds_prediction):
        monkeypatch.setattr(module, "WEIGHTS_DIR", client_weights)
    (path,) = write_images(tmp_path / "in", 1)
    monkeypatch.chdir(tmp_path)  # no unet-wide(.pt) here: the name is the shipped model's

    def use_install(weights: str) -> None:  # runs on the worker (pickled by value)
        import napari_particle_detect.detection.kinds_prediction as k
        import napari_particle_detect.models.registry as r
        import napari_particle_detect.shipped as s

        s.WEIGHTS_DIR = r.WEIGHTS_DIR = k.WEIGHTS_DIR = Path(weights)

    sent = []
    with Client(worker_process_cluster) as client:
        client.run(use_install, str(worker_weights))
        try:
            map_on_workers = client.map

            def submit_from_another_machine(function, *arguments, **keywords):
                sent.extend(value for column in arguments for value in column)
                shutil.rmtree(tmp_path / "client-site")  # the worker cannot read the client's install
                return map_on_workers(function, *arguments, **keywords)

            client.map = submit_from_another_machine
            summary = detect_files([path], tmp_path / "out", OPTIONS, "unet-wide", client)
        finally:
            client.run(use_install, str(shipped_weights))  # the worker's own install again, for the next test
    assert summary.ok, summary.failed
    assert not [value for value in sent if str(client_weights) in str(value)]  # no client path in the task
    assert json.loads((tmp_path / "out" / "image_00.json").read_text())["model"] == str(worker_weights / "unet-wide.pt")
    # The user's own model file is sent as before: its absolute path (the workers see the user's files).
    assert files_distributed._model_for_workers(str(tiny_model.absolute())) == str(tiny_model.absolute())
    assert files_distributed._model_for_workers(None) is None
    # A worker whose install has no such model, or another version's weights of that name, says so.
    monkeypatch.setattr(shipped, "WEIGHTS_DIR", worker_weights)
    ShippedModel = files_distributed.ShippedModel
    assert ShippedModel.of(worker_weights / "unet-wide.pt").weights() == worker_weights / "unet-wide.pt"
    with pytest.raises(ParticleDetectError, match="no shipped model 'unet-huge' in this worker"):
        ShippedModel("unet-huge").weights()
    with pytest.raises(ParticleDetectError, match="shipped 'unet-wide' is not the client's"):
        ShippedModel("unet-wide", "0" * 64).weights()


def test_a_shipped_models_fingerprint_holds_wherever_the_package_is_installed(tmp_path, tiny_model, monkeypatch):
    """A folder run finished by workers installed elsewhere is found finished on the client: the shipped
    model is recorded by name and content, not by the install's path and file times."""
    import shutil

    import napari_particle_detect.shipped as shipped
    from napari_particle_detect.files.file_detection import job_fingerprint

    (path,) = write_images(tmp_path / "in", 1)
    prints = []
    for site in ("client-site", "worker-site"):
        weights = tmp_path / site / "weights"
        weights.mkdir(parents=True)
        for name in ("unet-wide.pt", "unet-wide.json"):
            shutil.copy(shipped.WEIGHTS_DIR / name, weights / name)  # copied now: another path, another time
        monkeypatch.setattr(shipped, "WEIGHTS_DIR", weights)
        prints.append(job_fingerprint(path, OPTIONS, weights / "unet-wide.pt"))
    assert prints[0] == prints[1]
    assert prints[0]["model"]["shipped"] == "unet-wide" and "path" not in prints[0]["model"]
    # Another version's weights of that name is another model; a user's own file is still known by path.
    # (A setting the detection reads: a card's spaces or training record alone leave the model the same.)
    card_file = tmp_path / "worker-site" / "weights" / "unet-wide.json"
    card = json.loads(card_file.read_text())
    card["threshold"] = card["threshold"] / 2
    card_file.write_text(json.dumps(card))
    assert job_fingerprint(path, OPTIONS, tmp_path / "worker-site" / "weights" / "unet-wide.pt") != prints[0]
    assert job_fingerprint(path, OPTIONS, tiny_model)["model"]["path"] == str(tiny_model.resolve())


def test_detect_files_takes_one_path_refuses_a_table_name_and_options_of_another_type(tmp_path, tiny_model):
    """A notebook's first tries: a single path (it was read character by character), 'all.csv' as the output
    (a folder of that name was made), options as a dict (an AttributeError deep inside)."""
    from napari_particle_detect.errors import ParticleDetectError
    from napari_particle_detect.files.file_detection import detect_file

    (path,) = write_images(tmp_path / "in", 1)
    summary = detect_files(str(path), tmp_path / "out", OPTIONS, tiny_model)
    assert summary.ok and len(summary.done) == 1
    with pytest.raises(ParticleDetectError, match=r"all\.csv: detect_files writes one CSV per input into a folder"):
        detect_files([path], tmp_path / "all.csv", OPTIONS, tiny_model)
    assert not (tmp_path / "all.csv").exists()
    with pytest.raises(TypeError, match="options must be a DetectOptions"):
        detect_file(path, {"diameter": 10}, tiny_model)
    with pytest.raises(TypeError, match="options must be a DetectOptions"):
        detect_files([path], tmp_path / "out2", {"diameter": 10}, tiny_model)


def test_a_table_that_cannot_be_written_leaves_no_metadata_of_it(tmp_path, tiny_model, monkeypatch):
    # A disk that filled while the CSV was written left a.json ("unfinished", 27,695 centres) beside no a.csv.
    import errno

    from napari_particle_detect.files import file_detection

    image, = write_images(tmp_path / "in", 1)
    output = tmp_path / "out" / "a.csv"
    output.parent.mkdir()

    def full_disk(table, path, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(file_detection, "write_centres", full_disk)
    with pytest.raises(OSError, match="No space left"):
        detect_file(image, OPTIONS, tiny_model, output)
    assert sorted(p.name for p in output.parent.iterdir()) == []

    monkeypatch.undo()
    detect_file(image, OPTIONS, tiny_model, output)  # an earlier table: its metadata stays, marked unfinished
    monkeypatch.setattr(file_detection, "write_centres", full_disk)
    with pytest.raises(OSError):
        detect_file(image, OPTIONS, tiny_model, output)
    assert json.loads(output.with_suffix(".json").read_text())["fingerprint"] is None  # redone on resume
