"""The command line end to end, and one clear error (no traceback, exit 2, nothing written) per bad input."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.cli.main import main

from helpers import detect_channel_as_its_plane_alone, tiny_model_file


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("cli-model"))


def run_cli(capsys, *args):
    code = main(["-q", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_synth_detect_evaluate_end_to_end(tmp_path):
    """Through the installed console script, with the shipped model."""
    exe = Path(sys.executable).with_name("particle-detect")
    data = tmp_path / "data"
    subprocess.run([exe, "synth", data, "--n", "2", "--area-fraction", "0.5", "--seed", "77", "--radius", "5", "7",
                    "--shape", "128", "128"], check=True)
    assert sorted(p.name for p in data.glob("image_*")) == ["image_000.csv", "image_000.tif", "image_001.csv",
                                                            "image_001.tif"]
    out = tmp_path / "pred.csv"
    overlay = tmp_path / "overlay.png"
    done = subprocess.run([exe, "detect", data / "image_000.tif", "-o", out, "--overlay", overlay, "--device", "cpu"],
                          capture_output=True, text=True, check=True)
    assert "particle diameter" in done.stderr
    table = pd.read_csv(out)
    assert list(table.columns) == ["frame", "y", "x", "score"]
    assert overlay.stat().st_size > 1000
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["inputs"][0]["diameter_source"] == "estimated"
    assert meta["inputs"][0]["diameter_confidence"] == "high"
    assert 8 < meta["inputs"][0]["diameter_px"] < 16  # radii 5-7 px
    result = subprocess.run([exe, "evaluate", out, data / "image_000.csv", "--tolerance", "3", "--json"],
                            capture_output=True, text=True, check=True)
    pooled = json.loads(result.stdout)
    assert pooled["tp"] + pooled["fn"] == len(pd.read_csv(data / "image_000.csv"))
    assert pooled["f1"] > 0.8


def test_commands_without_a_network_start_without_torch(tmp_path):
    """Importing torch costs seconds: synth and evaluate must not pay it (the package loads lazily)."""
    code = ("import sys; from napari_particle_detect.cli.main import main; "
            f"assert main(['synth', {str(tmp_path)!r}, '--n', '1', '--shape', '48', '48']) == 0; "
            f"path = {str(tmp_path / 'image_000.csv')!r}; "
            "assert main(['evaluate', path, path, '--json']) == 0; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["f1"] == 1.0


def test_a_doubtful_diameter_is_flagged_in_the_json(tmp_path, capsys, tiny_model):
    noise = (2000 + 20 * np.random.default_rng(0).standard_normal((96, 96))).astype(np.uint16)
    tifffile.imwrite(tmp_path / "noise.tif", noise)
    code, _, _ = run_cli(capsys, "detect", tmp_path / "noise.tif", "-o", tmp_path / "c.csv", "--model", tiny_model,
                         "--device", "cpu")
    assert code == 0
    assert json.loads((tmp_path / "c.json").read_text())["inputs"][0]["diameter_confidence"] == "low"
    run_cli(capsys, "detect", tmp_path / "noise.tif", "-o", tmp_path / "g.csv", "--model", tiny_model,
            "--device", "cpu", "--diameter", "9")
    assert json.loads((tmp_path / "g.json").read_text())["inputs"][0]["diameter_confidence"] == "high"
    # A folder run says it too, even with -q (it logged nothing: the doubt was only in the .json).
    code, _, err = run_cli(capsys, "detect", tmp_path / "noise.tif", "-o", f"{tmp_path}/folder/", "--model",
                           tiny_model, "--device", "cpu")
    assert code == 0 and "noise.tif: particle diameter" in err and "low confidence" in err


def test_diameter_before_the_images_leaves_them_images(tmp_path, capsys, tiny_model):
    """``--diameter`` takes one number or three: written before the images, it once read the first
    image as a second diameter."""
    image = (1000 + 20 * np.random.default_rng(1).standard_normal((64, 64))).astype(np.uint16)
    tifffile.imwrite(tmp_path / "a.tif", image)
    tifffile.imwrite(tmp_path / "b.tif", image)
    code, _, err = run_cli(capsys, "detect", "--diameter", "9", tmp_path / "a.tif", tmp_path / "b.tif",
                           "-o", tmp_path / "out", "--model", tiny_model, "--device", "cpu")
    assert code == 0, err
    for name in ("a", "b"):
        source = json.loads((tmp_path / "out" / f"{name}.json").read_text())["inputs"][0]
        assert (source["diameter_source"], source["diameter_px"]) == ("given", 9.0)


def test_stack_and_model_options(tmp_path, capsys, tiny_model):
    code, _, err = run_cli(capsys, "synth", tmp_path, "--n", "3", "--stack", "--shape", "64", "64")
    assert code == 0, err
    assert tifffile.imread(tmp_path / "stack.tif").shape == (3, 64, 64)
    out = tmp_path / "p.csv"
    code, _, err = run_cli(capsys, "detect", tmp_path / "stack.tif", "-o", out, "--model", tiny_model,
                           "--threshold", "0.0", "--diameter", "12", "--device", "cpu")
    assert code == 0, err
    assert set(pd.read_csv(out)["frame"]) <= {0, 1, 2}
    trackpy = pytest.importorskip("trackpy")
    trackpy.quiet()
    shipped = tmp_path / "shipped.csv"
    code, _, err = run_cli(capsys, "detect", tmp_path / "stack.tif", "-o", shipped, "--device", "cpu")
    assert code == 0, err
    table = pd.read_csv(shipped)
    linked = trackpy.link(table, search_range=4)  # our CSV goes to trackpy unchanged
    assert "particle" in linked.columns and len(linked) == len(table) > 0
    code, stdout, _ = run_cli(capsys, "evaluate", out, tmp_path / "stack.csv")
    assert code == 0 and "all" in stdout


def test_fine_tune_from_the_command_line_with_validation_data(tmp_path, capsys, tiny_model):
    from napari_particle_detect.models import load_model

    for name, seed in (("train", 1), ("check", 2)):
        folder = tmp_path / name
        code, _, err = run_cli(capsys, "synth", folder, "--n", "1", "--shape", "96", "96", "--radius", "11", "13",
                               "--seed", seed)
        assert code == 0, err
    out = tmp_path / "tuned"
    code, _, err = run_cli(capsys, "train", tmp_path / "train", "-o", out, "--from", tiny_model, "--epochs", "1",
                           "--steps-per-epoch", "2", "--batch-size", "2", "--crop", "32", "--threads", "1",
                           "--device", "cpu", "--validate", tmp_path / "check", "--diameter", "24")
    assert code == 0, err
    tuned, start = load_model(out.with_suffix(".pt")), load_model(tiny_model)
    round_ = tuned.card.training["fine_tuned"]
    assert round_["examples"] == 1  # the training image; the validation image is only scored
    assert round_["parent_f1"] is not None and round_["f1"] is not None
    assert tuned.card.canonical_diameter == start.card.canonical_diameter  # the examples were scaled to it


def test_help_for_every_subcommand(capsys):
    for sub in ("synth", "train", "detect", "evaluate"):
        with pytest.raises(SystemExit) as exit_info:
            main([sub, "--help"])
        assert exit_info.value.code == 0
        assert "usage: particle-detect " + sub in capsys.readouterr().out


def test_synth_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["synth", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for default in ("(default: 4)", "(default: 0.5)", "(default: fluorescent)", "(default: (4.0, 12.0))",
                    "(default: (256, 256))", "(default: 16)"):
        assert default in out


def bad_image(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.tif"
    if kind == "corrupt":
        path.write_bytes(b"II*\x00garbage that is not a tiff")
    elif kind == "empty-file":
        path.write_bytes(b"")
    elif kind == "constant":
        tifffile.imwrite(path, np.full((64, 64), 7, np.uint8))
    elif kind in ("nan", "inf"):  # in every pixel: a few are a mosaic's gaps, detected around (test_nan_gaps)
        tifffile.imwrite(path, np.full((64, 64), np.nan if kind == "nan" else np.inf, np.float32))
    elif kind == "rgb":
        path = tmp_path / "rgb.png"
        import imageio.v3 as iio

        iio.imwrite(path, np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    elif kind == "4d":
        tifffile.imwrite(path, np.random.default_rng(0).random((2, 3, 16, 16)).astype(np.float32))
    elif kind == "1d":
        tifffile.imwrite(path, np.arange(100, dtype=np.uint8))
    elif kind == "tiny":
        tifffile.imwrite(path, np.random.default_rng(0).random((4, 4)).astype(np.float32))
    elif kind == "text":
        path = tmp_path / "notes.txt"
        path.write_text("hello")
    return path


@pytest.mark.parametrize(
    "kind, message",
    [
        ("missing", "file not found"),
        ("corrupt", "cannot read image"),
        ("empty-file", "empty file (0 bytes)"),
        ("constant", "constant"),
        ("nan", "every pixel is NaN or infinite"),
        ("inf", "every pixel is NaN or infinite"),
        ("rgb", "RGB"),
        ("4d", "expected a 2D image or a 3D stack"),
        ("1d", "expected a 2D image or a 3D stack"),
        ("tiny", "too small"),
        ("text", "unsupported file type"),
    ],
)
def test_bad_images_give_one_clear_error(tmp_path, capsys, tiny_model, kind, message):
    path = tmp_path / "missing.tif" if kind == "missing" else bad_image(tmp_path, kind)
    out = tmp_path / "out.csv"
    code, _, err = run_cli(capsys, "detect", path, "-o", out, "--model", tiny_model, "--device", "cpu")
    assert code == 2
    assert message in err and str(path.name) in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and not list(tmp_path.glob(".out.csv*"))


def test_missing_and_mismatched_weights(tmp_path, capsys, tiny_model):
    image = tmp_path / "img.tif"
    tifffile.imwrite(image, np.random.default_rng(0).random((64, 64)).astype(np.float32))
    out = tmp_path / "out.csv"
    code, _, err = run_cli(capsys, "detect", image, "-o", out, "--model", tmp_path / "nope.pt")
    assert code == 2 and "model weights file not found" in err
    # Weights of another architecture under a UNet card.
    card = json.loads(Path(tiny_model).with_suffix(".json").read_text())
    wrong = tmp_path / "wrong.pt"
    wrong.write_bytes(Path(tiny_model).read_bytes())
    (tmp_path / "wrong.json").write_text(json.dumps({**card, "architecture": "resnet", "channels": [12, 24, 48, 96]}))
    code, _, err = run_cli(capsys, "detect", image, "-o", out, "--model", wrong)
    assert code == 2 and "do not match" in err and "Traceback" not in err
    truncated = tmp_path / "trunc.pt"
    truncated.write_bytes(Path(tiny_model).read_bytes()[:500])
    (tmp_path / "trunc.json").write_text(json.dumps(card))
    code, _, err = run_cli(capsys, "detect", image, "-o", out, "--model", truncated)
    assert code == 2 and "cannot read model weights" in err
    (tmp_path / "nocard.pt").write_bytes(Path(tiny_model).read_bytes())
    code, _, err = run_cli(capsys, "detect", image, "-o", out, "--model", tmp_path / "nocard.pt")
    assert code == 2 and "model card" in err
    assert not out.exists()


def test_bad_centre_tables(tmp_path, capsys):
    good = tmp_path / "good.csv"
    pd.DataFrame({"y": [1.0], "x": [2.0]}).to_csv(good, index=False)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    code, _, err = run_cli(capsys, "evaluate", bad, good)
    assert code == 2 and "needs columns y and x" in err
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, _, err = run_cli(capsys, "evaluate", good, empty)
    assert code == 2 and "empty file" in err
    text = tmp_path / "text.csv"
    text.write_text("y,x\none,2\n")
    code, _, err = run_cli(capsys, "evaluate", text, good)
    assert code == 2 and "non-numeric" in err


def crowded_spots(count: int = 600, size: int = 256, sigma: float = 2.0, seed: int = 3) -> np.ndarray:
    """Gaussian spots placed uniformly (pairs closer than the network separates among them), 12 bits."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, size, size=(count, 2))
    yy, xx = np.mgrid[:size, :size]
    image = np.full((size, size), 200.0)
    for (y, x), height in zip(centres, rng.uniform(200, 600, count)):
        image += height * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * sigma**2))
    return np.clip(rng.normal(image, 20.0), 0, 4095).astype(np.uint16)


def test_split_close_finds_hidden_neighbours_of_crowded_spots_only_when_asked(tmp_path, capsys):
    image = tmp_path / "spots.tif"
    tifffile.imwrite(image, crowded_spots())
    plain, split = tmp_path / "plain.csv", tmp_path / "split.csv"
    assert run_cli(capsys, "detect", image, "-o", plain, "--device", "cpu")[0] == 0
    assert run_cli(capsys, "detect", image, "-o", split, "--device", "cpu", "--split-close")[0] == 0
    a, b = pd.read_csv(plain), pd.read_csv(split)
    assert len(b) > len(a) and list(b.columns) == list(a.columns)
    # Every centre found without the option is found with it, where it was: the option only adds.
    gaps = np.hypot(*(a[["y", "x"]].to_numpy()[:, None, :] - b[["y", "x"]].to_numpy()[None]).transpose(2, 0, 1))
    assert gaps.min(axis=1).max() < 1e-3
    # A one-table run's record says which it was, as a folder run's does: the extra rows are no accident.
    said = [json.loads(path.with_suffix(".json").read_text())["split_close"] for path in (plain, split)]
    assert said == [False, True]
    code, _, err = run_cli(capsys, "detect", image, "-o", tmp_path / "r.csv", "--kind", "rods", "--split-close")
    assert code == 2 and "--split-close" in err and not (tmp_path / "r.csv").exists()


@pytest.mark.parametrize("argv, expected", [
    (["detect", "--diameter", "6", "12", "12", "v.tif", "-o", "o.csv"],
     ["detect", "v.tif", "-o", "o.csv", "--diameter", "6", "12", "12"]),
    (["detect", "--diameter", "9", "a.tif", "--", "-b.tif"], ["detect", "a.tif", "--diameter", "9", "--", "-b.tif"]),
    (["detect", "a.tif", "--diameter", "9", "-o", "o.csv"], ["detect", "a.tif", "--diameter", "9", "-o", "o.csv"]),
    (["detect", "--diameter", "6", "12", "a.tif"], ["detect", "--diameter", "6", "12", "a.tif"]),  # argparse refuses it
])
def test_diameter_values_move_behind_the_images(argv, expected):
    from napari_particle_detect.cli.volumes import diameter_values_last

    assert diameter_values_last(argv) == expected


def test_folder_outputs_are_named_for_the_links_given_not_their_targets(tmp_path):
    from napari_particle_detect.files.file_detection import expand_inputs, output_paths

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        tifffile.imwrite(tmp_path / name / "image_000.tif", np.zeros((8, 8), np.uint8))
    links = tmp_path / "links"
    links.mkdir()
    (links / "exp1_cellA.tif").symlink_to(tmp_path / "a" / "image_000.tif")
    (links / "exp2_cellB.tif").symlink_to(tmp_path / "b" / "image_000.tif")
    outputs = output_paths(expand_inputs([links]), tmp_path / "out")
    assert outputs == [tmp_path / "out" / "exp1_cellA.csv", tmp_path / "out" / "exp2_cellB.csv"]


def test_detect_file_on_a_missing_file_says_so_in_one_line(tmp_path):
    from napari_particle_detect.errors import ParticleDetectError
    from napari_particle_detect.files.file_detection import detect_file

    with pytest.raises(ParticleDetectError, match=r"nothere.tif: file not found$"):
        detect_file(tmp_path / "nothere.tif", output=tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_unreadable_files_among_several_into_one_table_are_reported_at_the_end(tmp_path, capsys, tiny_model):
    # Opened up front like the others, an unreadable file was a plain error that stopped the run (exit 2,
    # nothing written); as with a constant or NaN file the others go on, and the .json says what failed.
    folder = tmp_path / "mix"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for name in ("a.tif", "b.tif"):
        tifffile.imwrite(folder / name, rng.random((64, 64)).astype(np.float32))
    (folder / "y.tif").write_bytes((folder / "a.tif").read_bytes()[:200])  # its pixels cut off
    (folder / "zz.tif").write_bytes(rng.integers(0, 256, 5000, dtype=np.uint8).tobytes())  # not a TIFF at all
    out = tmp_path / "mix.csv"
    code, _, err = run_cli(capsys, "detect", folder, "-o", out, "--model", tiny_model, "--diameter", "10",
                           "--threshold", "0")
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 2, err
    assert lines[0].startswith(f"particle-detect: failed: {folder / 'y.tif'}: ")
    assert lines[1].startswith(f"particle-detect: failed: {folder / 'zz.tif'}: cannot read image")
    assert sorted(pd.read_csv(out)["file"].unique()) == [str(folder / "a.tif"), str(folder / "b.tif")]
    meta = json.loads(out.with_suffix(".json").read_text())
    assert [r["file"] for r in meta["inputs"]] == [str(folder / "a.tif"), str(folder / "b.tif")]
    assert [f["file"] for f in meta["failed"]] == [str(folder / "y.tif"), str(folder / "zz.tif")]
    assert [f"particle-detect: failed: {f['reason']}" for f in meta["failed"]] == lines
    # One unreadable file alone is still a plain error, and nothing is written.
    code, _, err = run_cli(capsys, "detect", folder / "zz.tif", "-o", tmp_path / "one.csv", "--model", tiny_model)
    assert code == 2 and err.startswith("particle-detect: error: ") and not (tmp_path / "one.csv").exists()


def test_a_low_confidence_warning_gives_its_advice_once(tmp_path, capsys, tiny_model):
    # A crowded field's reason ends with its own advice (sizing.DIAMETER_ADVICE); the warning once added
    # "; give --diameter" after it (and after the stack's "(frame 0)"), the advice twice.
    stack = tmp_path / "crowded.tif"
    tifffile.imwrite(stack, np.stack([crowded_spots(seed=3), crowded_spots(seed=4)]))
    code, _, err = run_cli(capsys, "detect", stack, "-o", tmp_path / "c.csv", "--model", tiny_model)
    assert code == 0 and "low confidence: the particles crowd" in err, err
    # Both readings (5-7 px) are enlarged the most the model does: no diameter would change a centre, so
    # none is asked for (sizing.SAME_DETECTION); where one would, the reason's own advice comes once.
    assert err.count("give the diameter") + err.count("give --diameter") == 0, err
    assert err.strip().endswith("either size gives the same centres (both are enlarged the most the model does) "
                                "(frame 0)"), err
    from napari_particle_detect.detection.sizing import DIAMETER_ADVICE, with_advice

    assert with_advice(f"crowded: 20 % off; {DIAMETER_ADVICE} (frame 0)", "give --diameter").count("give") == 1
    # A reason without advice of its own (few blobs over noise) still gets the option's name.
    noise = (2000 + 20 * np.random.default_rng(0).standard_normal((96, 96))).astype(np.uint16)
    tifffile.imwrite(tmp_path / "noise.tif", noise)
    code, _, err = run_cli(capsys, "detect", tmp_path / "noise.tif", "-o", tmp_path / "n.csv", "--model", tiny_model)
    assert code == 0 and "low confidence: no particle-like blobs stand out of the noise" in err, err
    assert err.strip().endswith("; give --diameter"), err


def test_detect_help_says_what_auto_runtime_and_precision_pick(monkeypatch):
    # The help once said "auto: float32" while auto ran the shipped model in OpenVINO's bfloat16 on a CPU
    # with native bfloat16 (runtimes.resolve_runtime), as the run's .json recorded.
    import torch

    from napari_particle_detect.cli.main import build_parser
    from napari_particle_detect.detection import runtimes
    from napari_particle_detect.models import load_model

    detect = build_parser()._subparsers._group_actions[0].choices["detect"]
    helps = {a.dest: " ".join(a.help.split()) for a in detect._actions if a.dest in ("precision", "runtime")}
    assert "auto: float32 (" not in helps["precision"]
    assert helps["precision"].startswith("auto: bfloat16 on OpenVINO on a CPU that computes in it natively, for a "
                                         "model whose bfloat16 form passed the accuracy gate")
    assert "else float32" in helps["precision"] and "the .json records the one used" in helps["precision"]
    assert helps["runtime"].startswith("auto on a CPU: OpenVINO in bfloat16 where it is installed")
    assert "else ONNX Runtime" in helps["runtime"] and "torch on GPUs" in helps["runtime"]
    # What those words say, as resolve_runtime decides it for the shipped model.
    shipped, cpu = load_model(None, "cpu"), torch.device("cpu")
    monkeypatch.setattr(runtimes, "openvino_available", lambda: True)
    monkeypatch.setattr(runtimes, "onnx_available", lambda: True)
    monkeypatch.setattr(runtimes, "native_bfloat16_cpu", lambda: True)
    assert runtimes.resolve_runtime("auto", "auto", cpu, model=shipped) == ("openvino", "bfloat16")
    assert runtimes.resolve_runtime("auto", "auto", cpu, compile=True, model=shipped) == ("torch", "auto")
    monkeypatch.setattr(runtimes, "native_bfloat16_cpu", lambda: False)
    assert runtimes.resolve_runtime("auto", "auto", cpu, model=shipped) == ("onnx", "float32")
    assert runtimes.resolve_runtime("auto", "auto", torch.device("cuda"), model=shipped) == ("torch", "auto")


def test_rounds_of_an_image_finds_the_project_the_dock_keeps_away_from_it(tmp_path, capsys, monkeypatch):
    # The image's folder could not be written, so the dock kept its project in the projects home: `rounds
    # IMAGE` looked only beside the image and said there was no project. A folder chosen with the dock's
    # Folder… is found the same way.
    from napari_particle_detect.projects.locations import home_folder_for_image, remember_chosen_folder
    from napari_particle_detect.projects.project import Project

    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_HOME", str(tmp_path / "home"))
    image = tmp_path / "shared" / "cells.tif"
    image.parent.mkdir()
    tifffile.imwrite(image, np.zeros((2, 32, 32), np.uint8))
    home = home_folder_for_image(image)
    Project.open(home, image=str(image), n_frames=2, frame_shape=(32, 32)).remember_threshold(0.5)
    assert (home / "state.json").is_file()
    assert main(["rounds", str(image)]) == 0
    assert "round  from" in capsys.readouterr().out
    chosen = Project.open(tmp_path / "mine", image=str(image), n_frames=2, frame_shape=(32, 32))
    chosen.remember_threshold(0.5)
    assert remember_chosen_folder(image, chosen.folder)
    (home / "state.json").unlink()  # only the chosen folder has a project now
    assert main(["rounds", str(image)]) == 0
    assert main(["rounds", str(tmp_path / "shared" / "other.tif")]) == 2  # still said when there is none


def particles(seed: int = 1, size: int = 96) -> np.ndarray:
    from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

    return synthesize(benchmark_config("fluorescent", 0.4, (size, size)), seed=seed).image


def test_a_multichannel_tiff_is_refused_in_one_line_and_detected_in_the_channel_chosen(tmp_path, capsys, tiny_model):
    # An ImageJ CYX hyperstack (a noise channel, a particle channel) was "read as a stack of 2 2D frames (its
    # metadata names no axes)": its channels became frames 0 and 1, the noise channel's 'centres' among them.
    grey = particles()
    noise = np.random.default_rng(0).integers(0, int(grey.max()), grey.shape).astype(grey.dtype)
    path = tmp_path / "cyx.tif"
    tifffile.imwrite(path, np.stack([noise, grey]), imagej=True, metadata={"axes": "CYX"})
    tifffile.imwrite(tmp_path / "alone.tif", grey)
    code = main(["detect", str(path), "-o", str(tmp_path / "none.csv"), "--model", str(tiny_model)])
    err = capsys.readouterr().err
    assert code == 2 and err.strip().splitlines() == [
        f"particle-detect: error: {path}: its metadata names axes CYX (shape 2x96x96): 2 channels, and detection "
        "reads one; give channel=N (--channel N), N from 0 to 1, to detect one"]
    assert not (tmp_path / "none.csv").exists()
    common = ["--model", tiny_model, "--diameter", "10", "--threshold", "0.05"]
    detect_channel_as_its_plane_alone(run_cli, capsys, path, tmp_path / "alone.tif", common)
    assert json.loads((tmp_path / "one.json").read_text())["inputs"][0]["channel"] == 1
    code, _, err = run_cli(capsys, "detect", path, "-o", tmp_path / "c.csv", "--channel", "2", *common)
    assert code == 2 and err.strip() == (f"particle-detect: error: {path}: channel=2 (--channel 2), but it has 2 "
                                         "channels (0-1)")
    code, _, err = run_cli(capsys, "detect", tmp_path / "alone.tif", "-o", tmp_path / "c.csv", "--channel", "0",
                           *common)
    assert code == 2 and ("alone.tif: channel=0 (--channel 0), but it has no channels (shape 96x96); "
                          "leave it out\n") in err


@pytest.mark.parametrize("name", ["rgb_planar.tif", "rgb.tif", "yxc.tif"])
def test_colour_and_channel_tiffs_are_refused_with_one_line_that_says_how_to_choose_a_channel(tmp_path, capsys,
                                                                                                 tiny_model, name):
    # A planar RGB TIFF was detected as 3 frames of the same particles; an interleaved one's refusal came after
    # "read as a stack of 96 2D frames (its metadata names no axes)", and a two-channel YXC one said
    # "frame 0: image is too small ((96, 2))".
    grey = (particles() // 16).astype(np.uint8)
    path = tmp_path / name
    if name == "rgb_planar.tif":
        tifffile.imwrite(path, np.stack([grey] * 3), photometric="rgb", planarconfig="separate", metadata=None)
        said = "looks like an RGB(A) image (axes SYX, shape 3x96x96: 3 samples per pixel); convert it to greyscale " \
               "first, or give channel=N (--channel N), N from 0 to 2, to detect one, or --axes TYX if its 3 planes " \
               "are frames"
    elif name == "rgb.tif":
        tifffile.imwrite(path, np.stack([grey] * 3, -1), photometric="rgb")
        said = "looks like an RGB(A) image (axes YXS, shape 96x96x3: 3 samples per pixel); convert it to greyscale " \
               "first, or give channel=N (--channel N), N from 0 to 2, to detect one"
    else:
        tifffile.imwrite(path, np.stack([grey, grey[::-1]], -1), photometric="minisblack")
        said = "shape 96x96x2 looks like 2 channels on its last axis (its metadata names no axes); give channel=N " \
               "(--channel N), N from 0 to 1, to detect one"
    code = main(["detect", str(path), "-o", str(tmp_path / "c.csv"), "--model", str(tiny_model)])
    err = capsys.readouterr().err
    assert code == 2 and err.strip().splitlines() == [f"particle-detect: error: {path}: {said}"]
    code, _, err = run_cli(capsys, "detect", path, "-o", tmp_path / "c.csv", "--channel", "0", "--model", tiny_model,
                           "--diameter", "10")
    assert code == 0, err
    assert set(pd.read_csv(tmp_path / "c.csv")["frame"]) <= {0}


def test_channels_of_a_folder_run_are_options_of_its_own(tmp_path, tiny_model):
    # The channel changes the centres: a folder run of another channel is done again, not skipped as unchanged.
    from napari_particle_detect.files.distributed import detect_files
    from napari_particle_detect.files.file_detection import DetectOptions, detect_file

    path = tmp_path / "in" / "cyx.tif"
    path.parent.mkdir()
    channels = np.stack([particles(1), particles(2)])
    tifffile.imwrite(path, channels, imagej=True, metadata={"axes": "CYX"})
    options = DetectOptions(diameter=10, threshold=0.05)
    for channel in (0, 1):
        tifffile.imwrite(tmp_path / f"alone{channel}.tif", channels[channel])
        alone = detect_file(tmp_path / f"alone{channel}.tif", options, tiny_model).table
        chosen = detect_file(path, replace(options, channel=channel), tiny_model)
        assert len(alone) > 5 and chosen.table.equals(alone) and chosen.record["channel"] == channel
        summary = detect_files([path], tmp_path / "out", replace(options, channel=channel), tiny_model)
        assert len(summary.done) == 1 and not summary.skipped
        np.testing.assert_allclose(pd.read_csv(tmp_path / "out" / "cyx.csv")[["y", "x"]], alone[["y", "x"]], atol=1e-3)
    assert detect_files([path], tmp_path / "out", replace(options, channel=1), tiny_model).skipped == [path]
    with pytest.raises(TypeError, match="channel must be a whole number"):
        detect_file(path, DetectOptions(channel="1"), tiny_model)


def test_rgb_planes_are_frames_where_tifffile_wrote_them_and_colours_where_another_program_did(tmp_path, capsys,
                                                                                                  tiny_model):
    # tifffile writes a stack of 3 or 4 frames as RGB planes unless told photometric="minisblack" (the bundled
    # sample stacks are such files), byte for byte what it writes for RGB planes asked for: frames, as before,
    # and --channel N picks one. RGB planes without tifffile's shape description are another program's colours.
    frames = np.stack([(particles(seed) // 16).astype(np.uint8) for seed in range(3)])
    tifffile.imwrite(tmp_path / "tifffile.tif", frames)
    tifffile.imwrite(tmp_path / "plain.tif", frames, photometric="minisblack")
    tifffile.imwrite(tmp_path / "other.tif", frames, photometric="rgb", metadata=None)
    common = ["--model", tiny_model, "--diameter", "10"]
    code, _, err = run_cli(capsys, "detect", tmp_path / "other.tif", "-o", tmp_path / "c.csv", *common)
    assert code == 2 and err.strip().endswith("give channel=N (--channel N), N from 0 to 2, to detect one, or --axes "
                                              "TYX if its 3 planes are frames"), err
    for name, options in (("tifffile", []), ("plain", []), ("other", ["--axes", "TYX"]), ("plain", ["--axes", "TYX"]),
                          ("tifffile", ["--channel", "1"]), ("other", ["--channel", "1"])):
        out = tmp_path / f"{name}{''.join(options)}.csv"
        code, _, err = run_cli(capsys, "detect", tmp_path / f"{name}.tif", "-o", out, *options, *common)
        assert code == 0, (name, options, err)
    found = pd.read_csv(tmp_path / "plain.csv")
    assert set(found["frame"]) == {0, 1, 2}
    for name in ("tifffile.csv", "other--axesTYX.csv", "plain--axesTYX.csv"):
        assert pd.read_csv(tmp_path / name).equals(found), name
    second = found[found["frame"] == 1].assign(frame=0).reset_index(drop=True)
    for name in ("tifffile--channel1.csv", "other--channel1.csv"):
        assert pd.read_csv(tmp_path / name).equals(second), name


def render_terminal(text: str) -> list[str]:
    """The lines a terminal shows for ``text``: a carriage return goes back to the line's start and writes over it."""
    lines = []
    for raw in text.split("\n"):
        line = ""
        for part in raw.split("\r"):
            line = part + line[len(part):]
        lines.append(line.rstrip())
    return lines


def test_a_blank_frame_is_warned_of_on_its_own_line_and_listed_in_the_json(tmp_path, capsys, tiny_model):
    # The warning was printed at the end of the progress bar's line, and the .json did not list the frame.
    stack = np.stack([particles(seed) for seed in range(3)])
    stack[1] = 881
    path = tmp_path / "gaps.tif"
    tifffile.imwrite(path, stack, photometric="minisblack")
    code = main(["detect", str(path), "-o", str(tmp_path / "gaps.csv"), "--model", str(tiny_model), "--diameter",
                 "10", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 0, err
    warning = f"{path} frame 1: every pixel is 881 (a blank frame): no centres; the rest of the stack is detected"
    assert warning in render_terminal(err), render_terminal(err)
    record = json.loads((tmp_path / "gaps.json").read_text())["inputs"][0]
    assert record["blank_frames"] == [1] and 1 in record["frames_without_centres"]
    assert set(pd.read_csv(tmp_path / "gaps.csv")["frame"]) == {0, 2}
    assert {"file", "frames", "centres", "diameter_px", "diameter_source", "rescale_factor"} <= set(record)
