"""What training makes of the truth it is given: a dock export's unreviewed frames are no truth, centres in
micrometres or truth that does not match its images are said, a dock project folder is no DATA."""

from __future__ import annotations

import logging
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.learning.training import load_examples
from napari_particle_detect.projects.project import Project
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

# A few steps of small crops: what these tests check is said before or beside training, not learned.
TINY_ROUND = ("--steps-per-epoch", "2", "--batch-size", "2", "--crop", "32", "--threads", "1", "--device", "cpu")


def run_cli(capsys, *args) -> tuple[int, str]:
    code = main(["-q", *map(str, args)])
    return code, capsys.readouterr().err


def refused(capsys, *args) -> str:
    """The one error line of a refused command (status 2, no traceback)."""
    code, err = run_cli(capsys, *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "error:" in lines[0] and "Traceback" not in err, (code, err)
    return lines[0]


def training_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name.startswith("napari_particle_detect") and r.levelno == logging.WARNING]


def frame_rows(frame: int, centres: np.ndarray, sources: list[str]) -> pd.DataFrame:
    """A frame as the dock's Export writes it: frame,y,x,score,source, one source per centre in turn."""
    chosen = [sources[i % len(sources)] for i in range(len(centres))]
    return pd.DataFrame({"frame": frame, "y": centres[:, 0], "x": centres[:, 1],
                         "score": [np.nan if s == "added" else 0.8 for s in chosen], "source": chosen})


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> tuple[Path, list[np.ndarray]]:
    """Four 64 px frames of spheres and their true centres."""
    folder = tmp_path_factory.mktemp("stack")
    samples = [synthesize(benchmark_config("fluorescent", 0.3, shape=(64, 64)), seed=s) for s in range(4)]
    tifffile.imwrite(folder / "stack.tif", np.stack([s.image for s in samples]), photometric="minisblack")
    return folder / "stack.tif", [s.centres for s in samples]


# ---- 1: a dock export's frames nobody reviewed are no truth -----------------------------------------
def test_a_dock_export_trains_on_its_reviewed_frames_only(stack, tmp_path, caplog):
    image, centres = stack
    shutil.copy(image, tmp_path / "stack.tif")
    csv = tmp_path / "stack.csv"
    pd.concat([frame_rows(0, centres[0], ["accepted", "added"]),  # accepted whole
               frame_rows(1, centres[1], ["model"]),  # never reviewed
               frame_rows(2, centres[2], ["model", "added"]),  # edited, never accepted
               frame_rows(3, centres[3], ["model", "accepted"])]).to_csv(csv, index=False)  # a region accepted
    with caplog.at_level(logging.WARNING):
        examples = load_examples([tmp_path / "stack.tif"])
    # As the dock's rounds: accepted frames (a region's frame whole: the CSV does not locate the region).
    assert [e.name for e in examples] == ["stack.tif[0]", "stack.tif[3]"]
    assert np.allclose(examples[0].centres, centres[0])
    (said,) = training_warnings(caplog)
    assert said.startswith(f"{csv}: ")
    assert "frame 1 left out: never reviewed" in said and "frame 2 left out: edited but never accepted" in said
    assert "frame 3 kept whole" in said and "accept whole frames in the dock, then Export" in said


def test_a_dock_export_with_no_reviewed_frame_is_refused(stack, tmp_path, capsys):
    image, centres = stack
    shutil.copy(image, tmp_path / "stack.tif")
    csv = tmp_path / "stack.csv"
    pd.concat([frame_rows(0, centres[0], ["model"]), frame_rows(1, centres[1], ["model", "added"])]).to_csv(
        csv, index=False)
    line = refused(capsys, "train", tmp_path / "stack.tif", "-o", tmp_path / "m", "--epochs", "1", *TINY_ROUND)
    assert str(csv) in line and "no frame of it was reviewed" in line
    assert line.endswith("accept the frames in the dock, then Export")
    assert not (tmp_path / "m.pt").exists()


# ---- 2: truth in other units than pixels, or not of these images, is said ----------------------------
@pytest.fixture(scope="module")
def spheres(tmp_path_factory) -> tuple[np.ndarray, np.ndarray]:
    """A 128 x 96 image of 5-6 px spheres and their centres (pixels)."""
    sample = synthesize(benchmark_config("fluorescent", 0.3, shape=(128, 96), radius=5.5), seed=3)
    assert len(sample.centres) >= 30  # more than the 20 a table needs to be judged by its reach
    return sample.image, sample.centres


def write_pair(folder: Path, image: np.ndarray, centres: np.ndarray) -> Path:
    folder.mkdir()
    tifffile.imwrite(folder / "image.tif", image)
    pd.DataFrame({"y": centres[:, 0], "x": centres[:, 1]}).to_csv(folder / "image.csv", index=False)
    return folder


def test_centres_in_micrometres_are_said_once_per_file(spheres, stack, tmp_path, caplog):
    image, centres = spheres
    micrometres = write_pair(tmp_path / "um", image, centres * 0.25)
    pixels = write_pair(tmp_path / "px", image, centres)
    with caplog.at_level(logging.WARNING):
        load_examples([pixels])
    assert training_warnings(caplog) == []
    with caplog.at_level(logging.WARNING):
        load_examples([micrometres])
    (said,) = training_warnings(caplog)
    reach = np.ceil(centres.max(axis=0) * 0.25).astype(int)
    assert said == (f"{micrometres / 'image.csv'}: its centres cover only the top-left {reach[0]}x{reach[1]} px of "
                    "the 128x96 image: are they in µm? centres are in pixels")

    caplog.clear()  # a stack's frames, each with too few centres to judge, are judged together, once
    frames, truths = stack
    shutil.copy(frames, tmp_path / "stack.tif")
    pd.concat([pd.DataFrame({"frame": k, "y": c[:, 0] * 0.25, "x": c[:, 1] * 0.25}) for k, c in enumerate(truths)]
              ).to_csv(tmp_path / "stack.csv", index=False)
    with caplog.at_level(logging.WARNING):
        load_examples([tmp_path / "stack.tif"])
    (said,) = training_warnings(caplog)
    assert said.startswith(f"{tmp_path / 'stack.csv'}: its centres cover only the top-left ")


def test_a_round_on_truth_of_other_positions_says_the_starting_model_scores_too_low(tmp_path, capsys):
    sample = synthesize(benchmark_config("fluorescent", 0.3, shape=(128, 128), radius=5.5), seed=3)
    pixels = write_pair(tmp_path / "px", sample.image, sample.centres)
    code, err = run_cli(capsys, "train", "--from", "unet", pixels, "-o", tmp_path / "px.pt", *TINY_ROUND)
    assert code == 0, err
    assert "may not match" not in err  # the shipped model finds these spheres

    swapped = write_pair(tmp_path / "xy", sample.image, sample.centres[:, ::-1])  # x, y read as y, x
    code, err = run_cli(capsys, "train", "--from", "unet", swapped, "-o", tmp_path / "xy.pt", *TINY_ROUND)
    assert code == 0, err
    (said,) = [line for line in err.splitlines() if "may not match" in line]
    assert said.startswith("unet scores held-out F1 0.")
    assert said.endswith("the truth and the images may not match (units? y,x order?); centres are in pixels, y first")
    # Said before the verdict it puts in doubt.
    assert err.index(said) < err.index("held-out F1 ", err.index(said) + len(said))


# ---- 3: a dock project folder is no DATA --------------------------------------------------------------
def test_train_refuses_a_dock_project_folder_saying_how(stack, tmp_path, capsys):
    image, centres = stack
    shutil.copy(image, tmp_path / "stack.tif")
    project = Project.open(tmp_path / "stack.tif", n_frames=4, frame_shape=(64, 64))
    project.accept_frame(0, pd.DataFrame({"y": centres[0][:, 0], "x": centres[0][:, 1]}))
    renamed = tmp_path / "copied-project"
    shutil.copytree(project.folder, renamed)  # known by its state file, whatever its name
    for folder in (project.folder, renamed):
        line = refused(capsys, "train", "--from", "unet", folder, "-o", tmp_path / "round.pt", *TINY_ROUND)
        assert line.endswith(f"{folder}: a napari project: run a Fine-tune round in the dock, or Export its "
                             "reviewed frames beside the image (IMAGE.csv) and train --from on the image")
    assert not (tmp_path / "round.pt").exists()


def test_a_rods_dock_export_trains_on_its_reviewed_frames_only(tmp_path, caplog):
    # As for spheres: the rods dock's export of a stack, one frame accepted, one never reviewed (source 'model').
    from napari_particle_detect.learning.kinds_training import load_kind_examples
    from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

    config = benchmark_rod_config("fluorescent", 0.15)
    config = replace(config, optics=replace(config.optics, shape=(64, 64)))
    samples = [synthesize_rods(config, seed=seed) for seed in (3, 4)]
    tifffile.imwrite(tmp_path / "rods.tif", np.stack([s.image for s in samples]))
    tables = [s.table.assign(frame=i, score=1.0, source=source)
              for i, (s, source) in enumerate(zip(samples, ["accepted", "model"]))]
    pd.concat(tables, ignore_index=True).to_csv(tmp_path / "rods.csv", index=False)
    with caplog.at_level(logging.WARNING):
        examples = load_kind_examples([tmp_path / "rods.tif"], "rods")
    assert len(examples) == 1 and len(examples[0][1]) == len(samples[0].table)
    assert any("frame 1 left out: never reviewed" in r.getMessage() for r in caplog.records)
