"""The command line refuses what it would do wrong or ignore: one line naming the file and the problem,
status 2, nothing written, before any work. Tiny images and the tiny model keep these fast."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.cli.main import main

from helpers import tiny_model_file


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("refusals-model"))


@pytest.fixture(scope="module")
def spheres(tmp_path_factory) -> Path:
    """Two small synthetic images with their truth tables."""
    folder = tmp_path_factory.mktemp("refusals-data") / "data"
    assert main(["-q", "synth", str(folder), "--n", "2", "--shape", "64", "64", "--radius", "5", "6"]) == 0
    return folder


def run_cli(capsys, *args):
    code = main(["-q", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def refused(capsys, *args) -> str:
    """The one error line of a refused command (status 2, no traceback)."""
    code, _, err = run_cli(capsys, *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "error:" in lines[0] and "Traceback" not in err, (code, err)
    return lines[0]


def files_in(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


# ---- 1: evaluate scores a table of several files file by file ---------------------------------------
def _table(points, **columns) -> pd.DataFrame:
    return pd.DataFrame({"y": [p[0] for p in points], "x": [p[1] for p in points], **columns})


def test_evaluate_matches_several_files_file_by_file(tmp_path, capsys):
    # Pooled into one frame, a.tif's centre would match b.tif's truth at the same place: F1 1.0.
    predicted = pd.concat([_table([(10, 10)], frame=0, file="data/a.tif"),
                           _table([(30, 30)], frame=0, file="data/b.tif")])
    predicted.to_csv(tmp_path / "multi.csv", index=False)
    truth = pd.concat([_table([(30, 30)], frame=0, file="a.csv"), _table([(10, 10)], frame=0, file="b.csv")])
    truth.to_csv(tmp_path / "truth.csv", index=False)
    code, out, err = run_cli(capsys, "evaluate", tmp_path / "multi.csv", tmp_path / "truth.csv", "--json")
    assert code == 0, err
    assert json.loads(out)["tp"] == 0 and json.loads(out)["fp"] == 2
    code, out, _ = run_cli(capsys, "evaluate", tmp_path / "multi.csv", tmp_path / "truth.csv")
    assert code == 0 and "data/a.tif" in out and "data/b.tif" in out

    one = tmp_path / "a_truth.csv"
    _table([(10, 10)]).to_csv(one, index=False)
    line = refused(capsys, "evaluate", tmp_path / "multi.csv", one)
    assert "multi.csv" in line and "data/a.tif" in line and "data/b.tif" in line and "--file" in line
    code, out, err = run_cli(capsys, "evaluate", tmp_path / "multi.csv", one, "--file", "a.tif", "--json")
    assert code == 0, err
    assert json.loads(out)["tp"] == 1 and json.loads(out)["fp"] == 0
    assert "no rows of file" in refused(capsys, "evaluate", tmp_path / "multi.csv", one, "--file", "c.tif")


# ---- 2: detect's outputs replace only what detect wrote ----------------------------------------------
def test_detect_output_replaces_only_an_earlier_detect_output(tmp_path, capsys, spheres, tiny_model):
    data = tmp_path / "data"
    shutil.copytree(spheres, data)
    before = files_in(data)
    image = data / "image_000.tif"
    common = ("--model", tiny_model, "--device", "cpu")
    # synth.json beside: -o synth.csv would have replaced it; -o image_001.csv is a truth table.
    assert "synth.json" in refused(capsys, "detect", image, "-o", data / "synth.csv", *common)
    assert "image_001.csv" in refused(capsys, "detect", image, "-o", data / "image_001.csv", *common)
    notes = tmp_path / "notes.json"
    notes.write_text('{"mine": true}')
    assert "notes.json" in refused(capsys, "detect", image, "-o", tmp_path / "notes.csv", *common)
    assert files_in(data) == before and notes.read_text() == '{"mine": true}'
    assert not (tmp_path / "notes.csv").exists()
    out = tmp_path / "out.csv"
    for _ in range(2):  # the second run replaces the first's output: its JSON says detect wrote it
        assert run_cli(capsys, "detect", image, "-o", out, *common)[0] == 0
    assert json.loads(out.with_suffix(".json").read_text())["inputs"][0]["file"] == str(image)


# ---- 3: synth writes a dataset into a new or empty folder only ----------------------------------------
def test_synth_refuses_a_folder_that_is_not_empty(tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep")
    assert "not empty" in refused(capsys, "synth", folder, "--n", "1", "--shape", "32", "32")
    assert "not empty" in refused(capsys, "synth", folder, "--volume", "--n", "1", "--volume-shape", "4", "16", "16")
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli(capsys, "synth", empty, "--n", "1", "--shape", "32", "32")[0] == 0
    assert (empty / "image_000.tif").exists()


# ---- 4: link uses z where the table has one -------------------------------------------------------------
def test_link_on_a_volume_table_links_in_3d(tmp_path, capsys):
    # Two particles at one y, x, ten voxels apart in z: one seen in frames 0-2, the other in 3-5.
    rows = [(f, 0.0 if f < 3 else 10.0, 20.0, 20.0) for f in range(6)]
    table = pd.DataFrame(rows, columns=["frame", "z", "y", "x"])
    table.to_csv(tmp_path / "c.csv", index=False)
    code, _, err = run_cli(capsys, "link", tmp_path / "c.csv", "-o", tmp_path / "t.csv", "--search-range", "3",
                           "--drift", "--msd", tmp_path / "msd.csv")
    assert code == 0, err
    tracks = pd.read_csv(tmp_path / "t.csv")
    assert tracks["particle"].nunique() == 2  # linked by y, x alone they were one track
    assert {"z_corrected", "y_corrected", "x_corrected"} <= set(tracks.columns)


# ---- 5: options a command would ignore -------------------------------------------------------------------
@pytest.mark.parametrize("args, words", [
    (("--kind", "rods", "--volume"), "--volume"),
    (("--stack", "--volume"), "--stack"),
    (("--width", "3", "4"), "--width"),
    (("--aspect", "2", "3"), "--aspect"),
    (("--alignment", "nematic"), "--alignment"),
    (("--kind", "chains", "--aspect", "2", "3"), "--aspect"),
    (("--kind", "rods", "--beads", "3", "4"), "--beads"),
    (("--z-step", "3"), "--z-step"),
    (("--volume", "--shape", "64", "64"), "--shape"),
    (("--kind", "rods", "--radius", "3", "4"), "--radius"),
])
def test_synth_refuses_options_it_would_ignore(tmp_path, capsys, args, words):
    assert words in refused(capsys, "synth", tmp_path / "s", *args)
    assert not (tmp_path / "s").exists()


def test_detect_refuses_2d_options_on_volumes(tmp_path, capsys):
    volume = tmp_path / "v.tif"
    tifffile.imwrite(volume, np.random.default_rng(0).random((4, 24, 24)).astype(np.float32), imagej=True,
                     metadata={"axes": "ZYX"})
    for args, words in ((("--kind", "rods"), "--kind rods"), (("--measure",), "--measure"),
                        (("--split-close",), "--split-close"), (("--tile", "512"), "--tile"),
                        (("--polarity", "dark"), "--polarity")):
        assert words in refused(capsys, "detect", volume, "-o", tmp_path / "o.csv", *args)
    assert not (tmp_path / "o.csv").exists()


def test_evaluate_refuses_options_it_would_ignore(tmp_path, capsys):
    rods = tmp_path / "rods.csv"
    pd.DataFrame({"y": [5.0], "x": [5.0], "angle": [10.0], "length": [12.0]}).to_csv(rods, index=False)
    assert "--plot" in refused(capsys, "evaluate", rods, rods, "--kind", "rods", "--plot", tmp_path / "p.png")
    assert "--tolerance" in refused(capsys, "evaluate", rods, rods, "--kind", "rods", "--tolerance", "5")
    assert run_cli(capsys, "evaluate", rods, rods, "--kind", "rods", "--json")[0] == 0
    flat = tmp_path / "flat.csv"
    _table([(1, 2)]).to_csv(flat, index=False)
    assert "--voxel-size" in refused(capsys, "evaluate", flat, flat, "--voxel-size", "2", "1", "1")
    assert not (tmp_path / "p.png").exists()


# ---- 6: synth refuses runs that would not finish ------------------------------------------------------------
def test_synth_refuses_volumes_and_rods_too_many_to_place(tmp_path, capsys):
    line = refused(capsys, "synth", tmp_path / "v", "--volume", "--n", "1", "--volume-shape", "16", "64", "64",
                   "--sphere-diameter", "1")
    assert "would place about" in line
    line = refused(capsys, "synth", tmp_path / "r", "--kind", "rods", "--n", "1", "--width", "1", "1", "--aspect",
                   "1", "1", "--shape", "1024", "1024")
    assert "would place about" in line
    assert not list(tmp_path.iterdir())
    # Too small for one whole sphere: it was drawn empty, logged at the packing's volume fraction 0.450.
    line = refused(capsys, "synth", tmp_path / "s", "--volume", "--n", "1", "--volume-shape", "8", "8", "8")
    assert "smaller than one sphere of --sphere-diameter 10" in line and not (tmp_path / "s").exists()


def test_dense_thin_rods_are_placed_quickly():
    import time

    from napari_particle_detect.synthetic.rods import RodConfig, expected_count, place_rods
    from napari_particle_detect.synthetic.spheres import SynthConfig

    config = RodConfig(optics=SynthConfig(shape=(128, 128)), width_range=(1.0, 1.0), aspect_range=(1.0, 1.0),
                       area_fraction=0.5)
    # CPU time, not wall time: under a loaded machine's other work (a full test run beside helpers' runs) the wall
    # time of this 0.45 s placement reached 5.5 s. The quadratic placement this guards against took ~4 s of CPU.
    start = time.process_time()
    table = place_rods(config, np.random.default_rng(0))
    assert time.process_time() - start < 3.0  # every new rod tested against all before it: about 4 s
    assert len(table) == pytest.approx(expected_count(config), rel=0.05)


# ---- 7, 11, 12: detect's inputs ---------------------------------------------------------------------------------
def test_detect_refuses_a_diameter_larger_than_the_image(tmp_path, capsys, spheres, tiny_model):
    line = refused(capsys, "detect", spheres / "image_000.tif", "-o", tmp_path / "o.csv", "--diameter", "100",
                   "--model", tiny_model)
    assert "image_000.tif" in line and "64 x 64" in line
    assert not list(tmp_path.iterdir())


def test_a_model_path_must_be_a_pt_file(tmp_path, capsys, spheres):
    line = refused(capsys, "detect", spheres / "image_000.tif", "-o", tmp_path / "o.csv", "--model", "m.txt")
    assert line.startswith("particle-detect: error: m.txt:") and "m.pt" not in line
    assert "m.txt" in refused(capsys, "train", spheres, "-o", tmp_path / "t", "--from", "m.txt")


def test_one_file_named_twice_is_detected_once(tmp_path, capsys, spheres, tiny_model):
    image = spheres / "image_000.tif"
    os.symlink(image, tmp_path / "link.tif")
    out = tmp_path / "o.csv"
    code = main(["detect", str(image), os.path.relpath(image), str(tmp_path / "link.tif"), "-o", str(out),
                 "--model", str(tiny_model), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 0 and err.count("detected once") == 2
    assert "file" not in pd.read_csv(out).columns  # one input: one table without a file column
    assert len(json.loads(out.with_suffix(".json").read_text())["inputs"]) == 1


# ---- 8: grey + alpha PNG ----------------------------------------------------------------------------------------
def test_a_grey_and_alpha_png_is_read_as_its_grey(tmp_path):
    from PIL import Image

    from napari_particle_detect.files.io import read_image

    grey = np.random.default_rng(0).integers(0, 255, (40, 30), dtype=np.uint8)
    Image.fromarray(np.stack([grey, np.full_like(grey, 255)], axis=-1), "LA").save(tmp_path / "la.png")
    image = read_image(tmp_path / "la.png")
    assert image.shape == (40, 30) and np.array_equal(image, grey)


# ---- 9: outputs that cannot be written ---------------------------------------------------------------------------
@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc")
def test_unwritable_outputs_are_refused_before_any_work_naming_the_users_path(tmp_path, capsys, spheres):
    image, truth = spheres / "image_000.tif", spheres / "image_000.csv"
    for args, path in ((("detect", image, "-o", "/proc/out.csv"), "/proc/out.csv"),
                       (("detect", image, "-o", tmp_path / "o.csv", "--overlay", "/proc/x.png"), "/proc/x.png"),
                       (("evaluate", truth, truth, "--plot", "/proc/r.png"), "/proc/r.png"),
                       (("synth", "/proc/xx", "--n", "1"), "/proc/xx"),
                       (("detect", image, image.with_name("image_001.tif"), "-o", "/proc/outs/"), "/proc/outs"),
                       (("link", truth, "-o", "/proc/t.csv"), "/proc/t.csv")):
        line = refused(capsys, *args)
        assert line.startswith(f"particle-detect: error: {path}") and ".tmp" not in line
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc")
def test_a_failed_atomic_write_names_the_file_not_its_temporary():
    from napari_particle_detect.files.io import atomic_write_text

    with pytest.raises(OSError) as failure:
        atomic_write_text("/proc/x.csv", "y,x\n")
    assert failure.value.filename == "/proc/x.csv"


# ---- 10: ellipsoids' default aspect ---------------------------------------------------------------------------------
def test_synth_ellipsoids_default_to_the_training_aspects(tmp_path, capsys):
    assert run_cli(capsys, "synth", tmp_path / "e", "--kind", "ellipsoids", "--n", "1", "--shape", "64", "64")[0] == 0
    assert json.loads((tmp_path / "e" / "synth.json").read_text())["aspect_range"] == [1.2, 5.0]
    assert run_cli(capsys, "synth", tmp_path / "r", "--kind", "rods", "--n", "1", "--shape", "64", "64")[0] == 0
    assert json.loads((tmp_path / "r" / "synth.json").read_text())["aspect_range"] == [1.5, 20.0]


# ---- 13: rods and chains tables are no sphere centres ---------------------------------------------------------------
def test_rods_and_chains_tables_are_refused_as_sphere_centres(tmp_path, capsys, spheres):
    rods = tmp_path / "rods.csv"
    pd.DataFrame({"frame": [0], "y": [5.0], "x": [5.0], "angle": [10.0], "length": [12.0]}).to_csv(rods, index=False)
    chains = tmp_path / "chains.csv"
    pd.DataFrame({"y": [5.0, 9.0], "x": [5.0, 5.0], "chain": [0, 0], "index": [0, 1]}).to_csv(chains, index=False)
    assert "--kind rods" in refused(capsys, "evaluate", rods, rods)
    assert "--kind chains" in refused(capsys, "evaluate", chains, chains)
    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(spheres / "image_000.tif", data / "image_000.tif")
    shutil.copyfile(rods, data / "image_000.csv")
    line = refused(capsys, "train", data / "image_000.tif", "-o", tmp_path / "m", "--epochs", "1")
    assert "image_000.csv" in line and "--kind rods" in line
    assert not (tmp_path / "m.pt").exists()


# ---- 14: errors are one line ------------------------------------------------------------------------
def test_bad_option_values_are_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["detect", "a.tif", "-o", "o.csv", "--tile", "3"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("particle-detect detect: error: argument --tile") and "usage" not in err


def test_a_broken_csv_is_one_line(tmp_path, capsys):
    broken = tmp_path / "broken.csv"
    broken.write_text("y,x\n1,2\n1,2,3,4\n")
    assert "broken.csv" in refused(capsys, "evaluate", broken, broken)


def test_quiet_after_the_subcommand(tmp_path, capsys):
    assert main(["synth", str(tmp_path / "s"), "--n", "1", "--shape", "32", "32", "-q"]) == 0
    assert capsys.readouterr().err == ""


def test_train_on_a_missing_image_says_it_is_missing(tmp_path, capsys):
    line = refused(capsys, "train", tmp_path / "nonexist.tif", "-o", tmp_path / "m", "--epochs", "1")
    assert "nonexist.tif: file not found" in line


# ---- 15: the chains log names the per-chain table -------------------------------------------------------------------
def test_detect_chains_names_all_its_outputs(tmp_path, capsys):
    assert run_cli(capsys, "synth", tmp_path / "c", "--kind", "chains", "--n", "1", "--shape", "64", "64")[0] == 0
    out = tmp_path / "out.csv"
    code = main(["detect", str(tmp_path / "c" / "image_000.tif"), "-o", str(out), "--kind", "chains",
                 "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 0 and "out.chains.csv" in err.strip().splitlines()[-1]
    assert out.with_suffix(".chains.csv").exists()


# ---- 16: rounds of rods and chains projects ---------------------------------------------------------
def test_rounds_lists_exports_and_deletes_rounds_of_a_rods_project(tmp_path, capsys):
    from napari_particle_detect.projects.kinds_project import open_kind_project
    from napari_particle_detect.projects.project import RoundInfo
    from napari_particle_detect.shipped import WEIGHTS_DIR

    image = tmp_path / "img.tif"
    tifffile.imwrite(image, np.zeros((32, 32), np.uint16))
    project = open_kind_project("rods", image)
    for number in range(2):
        workspace = project.new_workspace()
        for suffix in (".pt", ".json"):
            shutil.copyfile((WEIGHTS_DIR / "rods").with_suffix(suffix), workspace / f"model{suffix}")
        project.commit_round(workspace, RoundInfo(number=0, origin="test"), make_current=number == 0)
    code, out, err = run_cli(capsys, "rounds", image)
    assert code == 0, err
    assert "001" in out and "002" in out
    code, _, err = run_cli(capsys, "rounds", project.folder, "--export", "1", "-o", tmp_path / "exported.pt")
    assert code == 0 and (tmp_path / "exported.pt").exists(), err
    assert run_cli(capsys, "rounds", project.folder, "--delete", "2")[0] == 0
    assert [r.number for r in project.rounds] == [1]


def test_rounds_says_a_round_won_a_tie_across_thresholds(tmp_path, capsys):
    from napari_particle_detect.projects.kinds_project import open_kind_project
    from napari_particle_detect.projects.project import RoundInfo
    from napari_particle_detect.shipped import WEIGHTS_DIR

    image = tmp_path / "img.tif"
    tifffile.imwrite(image, np.zeros((32, 32), np.uint16))
    project = open_kind_project("rods", image)
    scores = [dict(origin="shipped"), dict(origin="fine-tuned", parent=1, f1=0.857, parent_f1=0.857, improved=True),
              dict(origin="fine-tuned", parent=2, f1=0.9, parent_f1=0.857, improved=True)]
    for fields in scores:
        workspace = project.new_workspace()
        for suffix in (".pt", ".json"):
            shutil.copyfile((WEIGHTS_DIR / "rods").with_suffix(suffix), workspace / f"model{suffix}")
        project.commit_round(workspace, RoundInfo(number=0, **fields))
    code, out, err = run_cli(capsys, "rounds", image)
    lines = out.splitlines()
    assert code == 0, err
    assert "0.857 / 0.857" in lines[2] and "better (tied at the best threshold, better across thresholds)" in lines[2]
    assert "0.857 / 0.900" in lines[3] and "tied" not in lines[3]


# ---- many files, clusters and unreadable pictures ------------------------------------------------------------
@pytest.mark.parametrize("address", ["localhost", "nonsense", "http://127.0.0.1:8786", "tcp://127.0.0.1:abc"])
def test_a_malformed_scheduler_address_is_one_line(tmp_path, capsys, spheres, address):
    line = refused(capsys, "detect", spheres, "-o", tmp_path / "out", "--scheduler", address)
    assert line.startswith(f"particle-detect: error: {address}: not a scheduler address (")
    assert not (tmp_path / "out").exists()


def test_workers_and_a_scheduler_are_alternatives(tmp_path, capsys, spheres):
    with pytest.raises(SystemExit) as exit_info:  # refused while parsing, as argparse refuses
        main(["detect", str(spheres), "-o", str(tmp_path / "out"), "--workers", "2", "--scheduler",
              "tcp://127.0.0.1:8786"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and len(err.strip().splitlines()) == 1
    # The local cluster --workers sizes would go unused: that was silently ignored.
    assert err.startswith("particle-detect detect: error: argument --scheduler: not allowed with argument --workers")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("content, reason", [(b"", "empty file"),
                                             (b"\x89PNG\r\n\x1a\nnot the rest of a PNG", "its contents are not PNG data")])
def test_an_unreadable_png_is_one_line_naming_its_format(tmp_path, capsys, spheres, tiny_model, content, reason):
    bad = tmp_path / "in" / "bad.png"
    bad.parent.mkdir()
    bad.write_bytes(content)
    line = refused(capsys, "detect", bad, "-o", tmp_path / "bad.csv", "--model", tiny_model)
    assert line == f"particle-detect: error: {bad}: not a readable PNG file ({reason})"
    shutil.copy(spheres / "image_000.tif", tmp_path / "in")
    code, _, err = run_cli(capsys, "detect", tmp_path / "in", "-o", tmp_path / "out", "--model", tiny_model,
                           "--diameter", "10")
    assert code == 1 and err.strip() == f"particle-detect: failed: {bad}: not a readable PNG file ({reason})"
    assert (tmp_path / "out" / "image_000.csv").exists()


def test_one_bad_file_of_several_into_one_table_leaves_the_others_rows(tmp_path, capsys, spheres, tiny_model):
    bad = tmp_path / "nan.tif"
    tifffile.imwrite(bad, np.full((64, 64), np.nan, np.float32))  # opens fine; fails when detected
    images = [spheres / "image_000.tif", bad, spheres / "image_001.tif"]
    code, _, err = run_cli(capsys, "detect", *images, "-o", tmp_path / "all.csv", "--model", tiny_model,
                           "--diameter", "10", "--threshold", "0")
    # One 2D image, not a stack: its line names no frame 0 to look for.
    assert code == 1 and err.strip() == (f"particle-detect: failed: {bad}: every pixel is NaN or infinite; "
                                         "nothing to detect")
    table = pd.read_csv(tmp_path / "all.csv")
    assert sorted(table["file"].unique()) == [str(images[0]), str(images[2])] and len(table) > 0
    meta = json.loads((tmp_path / "all.json").read_text())
    assert [r["file"] for r in meta["inputs"]] == [str(images[0]), str(images[2])]
    assert meta["failed"] == [{"file": str(bad), "reason": f"{bad}: every pixel is NaN or infinite; "
                                                           "nothing to detect"}]
    # One image alone is still a plain error, and a model that cannot load fails once, before any file.
    assert refused(capsys, "detect", bad, "-o", tmp_path / "one.csv", "--model", tiny_model) == (
        f"particle-detect: error: {bad}: every pixel is NaN or infinite; nothing to detect")
    line = refused(capsys, "detect", *images, "-o", tmp_path / "again.csv", "--model", tmp_path / "nosuch.pt")
    assert line.endswith("nosuch.pt: model weights file not found") and not (tmp_path / "again.csv").exists()


def test_refusals_up_front_come_before_any_progress_bar(tmp_path, capsys, spheres, tiny_model):
    # Without -q: a folder run started its "0/1 file" bar (and a one-table run its frame bar) before the model
    # was loaded or the outputs checked, so the refusal came after a bar; a model that could not load was even
    # one failure per file (exit 1) in a folder run.
    image = spheres / "image_000.tif"
    card = json.loads(Path(tiny_model).with_suffix(".json").read_text())
    mismatched = tmp_path / "wrong.pt"
    mismatched.write_bytes(Path(tiny_model).read_bytes())
    (tmp_path / "wrong.json").write_text(json.dumps({**card, "architecture": "resnet", "channels": [12, 24, 48, 96]}))
    before = files_in(spheres)
    for args, ending in [
            ([image, "-o", f"{tmp_path}/out/", "--model", tmp_path / "nope.pt"],
             "nope.pt: model weights file not found"),
            ([image, "-o", f"{tmp_path}/out/", "--model", mismatched], "do not match the resnet in its card"),
            ([image, "-o", tmp_path / "out.csv", "--model", mismatched], "do not match the resnet in its card"),
            # --kind spheres said: a rods model without --kind is taken at its card's kind (0dec96a)
            ([image, "-o", f"{tmp_path}/out/", "--model", "rods", "--kind", "spheres"],
             "this model finds rods, not spheres; give a sphere model, or kind='rods' (--kind rods)"),
            ([image, "-o", tmp_path / "out.csv", "--model", "rods", "--kind", "spheres"],
             "give a sphere model, or kind='rods' (--kind rods)"),
            # The output folder is the inputs' own, where their truth tables lie.
            ([spheres, "-o", spheres, "--model", tiny_model], "move it or choose another output")]:
        code = main(["detect", *map(str, args), "--device", "cpu"])
        err = capsys.readouterr().err
        lines = err.strip().splitlines()  # a bar's carriage returns split lines too
        assert code == 2 and len(lines) == 1 and lines[0].startswith("particle-detect: error: "), (args, err)
        assert ending in lines[0] and "%|" not in err, (args, err)
    assert files_in(spheres) == before
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.csv").exists()
