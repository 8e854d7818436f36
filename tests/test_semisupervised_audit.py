"""What the audit of semi-supervised rounds found: a reviewed frame is known by its pixels, never
pseudo-labelled whatever its file is called; the frames a round learned from are recorded (card,
state.json) and said (the CLI's log, the dock's verdict and rounds table, ``rounds``), as is a round
that found fewer than it asked for; a volume or a colour image is refused as --unlabelled in one line
train can act on; the texts name the teacher the code uses, and the teacher pass fits the dock's line."""

import json
import shutil
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import tifffile
import torch

from napari_particle_detect.cli.main import build_parser, main
from napari_particle_detect.learning import pseudo_labels
from napari_particle_detect.learning.finetune import (FINE_TUNE, checked_examples, example_diameter, split_for_scoring,
                                                      unreviewed_frames)
from napari_particle_detect.learning.pseudo_labels import read_unlabelled
from napari_particle_detect.learning.training import load_examples
from napari_particle_detect.models import load_model, save_model
from napari_particle_detect.models.registry import WEIGHTS_DIR
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import answer_questions, run_detect, small_stack, tiny_model_file

DIAMETER = 12.0  # the synthetic particles' size, given so no test waits on a size estimate
REVIEWED = (0, 3)  # the frames of the movie its CSV annotates
TINY_CLI = ["--steps-per-epoch", "4", "--batch-size", "2", "--crop", "32", "--threads", "1", "--diameter",
            str(DIAMETER), "--device", "cpu"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    torch.set_num_threads(1)
    return load_model(tiny_model_file(tmp_path_factory.mktemp("model")))


def movie_frames(n: int, size: int = 64, seed: int = 0) -> list:
    return [synthesize(benchmark_config("fluorescent", 0.4, (size, size)), seed=seed + i) for i in range(n)]


@pytest.fixture
def movie(tmp_path):
    """data/stack.tif: 6 frames (uint16, as a camera writes them) and a CSV of its frames 0 and 3."""
    samples = movie_frames(6, seed=90)
    data = tmp_path / "data"
    data.mkdir()
    tifffile.imwrite(data / "stack.tif", np.stack([(s.image * 1000).astype(np.uint16) for s in samples]))
    rows = [pd.DataFrame({"frame": f, "y": samples[f].centres[:, 0], "x": samples[f].centres[:, 1]}) for f in REVIEWED]
    pd.concat(rows).to_csv(data / "stack.csv", index=False)
    return data / "stack.tif"


def frames_offered(model, movie, unlabelled, asked: int) -> list:
    """The unreviewed frames a round on ``movie``'s annotated frames would pseudo-label from ``unlabelled``
    (as ``train --from MODEL movie --unlabelled ...`` reads both)."""
    working = model.card.canonical_diameter
    examples = checked_examples(load_examples([movie], working, DIAMETER), working)
    splits = [split_for_scoring(e, example_diameter(model, e)) for e in examples]
    return unreviewed_frames(model, splits, read_unlabelled(unlabelled, working, DIAMETER),
                             replace(FINE_TUNE, unlabelled_frames=asked))


def test_the_same_movie_under_another_name_has_its_reviewed_frames_never_pseudo_labelled(tiny_model, movie,
                                                                                         tmp_path):
    raw = tmp_path / "raw" / "movie_raw.tif"
    raw.parent.mkdir()
    shutil.copy(movie, raw)
    stack = tifffile.imread(movie).astype(np.float32)
    offered = frames_offered(tiny_model, movie, [raw], asked=4)
    used = [next(i for i, frame in enumerate(stack) if np.array_equal(frame, f.image)) for f in offered]
    # Frames 0 and 3 hold every held-out tile: labelled, the teacher's answers there would train the round.
    assert used == [1, 2, 4, 5]  # four asked, four unreviewed left: all of them
    assert all(f.area.all() for f in offered)
    assert [f.name for f in offered] == [f"{raw}[{i}]" for i in used]


@pytest.mark.parametrize("size", [64, 80])
def test_another_image_under_the_same_file_name_is_learned_from_whole(tiny_model, movie, tmp_path, size):
    other = tmp_path / "other" / "stack.tif"
    other.parent.mkdir()
    tifffile.imwrite(other, np.stack([s.image for s in movie_frames(3, size, seed=200)]))
    offered = frames_offered(tiny_model, movie, [other], asked=2)  # 80 px: it crashed (shapes not broadcast)
    assert [f.name for f in offered] == [f"{other}[0]", f"{other}[2]"]  # 64 px: its frame 0 was dropped
    assert all(f.area.shape == (size, size) and f.area.all() for f in offered)


def test_the_cli_records_and_says_which_unreviewed_frames_the_round_learned_from(movie, tmp_path, capsys):
    # A teacher sure of something on these frames: the tiny model is unsure all over them, so a round learns nothing.
    model_path = save_model(load_model(WEIGHTS_DIR / "unet.pt"), tmp_path / "sure")
    raw = tmp_path / "movie_raw.tif"
    shutil.copy(movie, raw)
    out = tmp_path / "semi.pt"
    assert main(["train", str(movie), "--from", str(model_path), "-o", str(out), "--unlabelled", str(raw),
                 "--unlabelled-frames", "4", *TINY_CLI]) == 0
    record = load_model(out).card.training["fine_tuned"]
    assert record["pseudo_labelled"] == [f"{raw}[{i}]" for i in (1, 2, 4, 5)]
    assert record["unlabelled_asked"] == 4 and record["pseudo_labelled_frames"] == 4
    said = capsys.readouterr().err
    assert f"the round also learned from 4 unreviewed frames ({raw}[1], {raw}[2], {raw}[4], {raw}[5])\n" in said

    # Every frame given is reviewed: said, even with -q, not a silent supervised round.
    reviewed_only = tmp_path / "reviewed_only.tif"
    tifffile.imwrite(reviewed_only, tifffile.imread(movie)[list(REVIEWED)])
    out = tmp_path / "none_left.pt"
    assert main(["-q", "train", str(movie), "--from", str(model_path), "-o", str(out), "--unlabelled",
                 str(reviewed_only), "--unlabelled-frames", "2", *TINY_CLI]) == 0
    record = load_model(out).card.training["fine_tuned"]
    assert record["pseudo_labelled"] == [] and record["unlabelled_asked"] == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(
        "the round found no unreviewed frame left to learn from (2 asked): a supervised round")


def test_a_volume_or_a_colour_image_is_refused_as_unlabelled_in_one_line_train_can_act_on(tiny_model, movie,
                                                                                          tmp_path, capsys):
    model_path = save_model(tiny_model, tmp_path / "tiny")
    volume = tmp_path / "vol.tif"
    tifffile.imwrite(volume, np.stack([s.image for s in movie_frames(4, seed=300)]), imagej=True,
                     metadata={"axes": "ZYX"})
    colour = tmp_path / "rgb.tif"
    tifffile.imwrite(colour, np.zeros((64, 64, 3), np.uint8), photometric="rgb")
    train = ["train", str(movie), "--from", str(model_path), "-o", str(tmp_path / "x.pt"), *TINY_CLI, "--unlabelled"]
    assert main([*train, str(volume)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"particle-detect: error: {volume}: a ZYX volume (from its metadata); --unlabelled takes 2D images or TYX stacks"]
    assert main([*train, str(colour)]) == 2
    said = capsys.readouterr().err.splitlines()
    assert len(said) == 1 and said[0].startswith(f"particle-detect: error: {colour}: looks like an RGB")
    assert "--channel N" not in said[0] and "convert it to greyscale" in said[0] and "train has no --channel" in said[0]
    assert not (tmp_path / "x.pt").exists()


def test_the_texts_name_the_teacher_the_round_uses():
    # The student halfway through the round's steps teaches, not the model the round starts from.
    assert FINE_TUNE.pseudo_teacher_at == 0.5
    train = next(a for a in build_parser()._actions if a.dest == "command").choices["train"]
    help_text = next(a.help for a in train._actions if a.dest == "unlabelled")
    assert "halfway" in help_text and "starting model" not in help_text
    assert "pseudo_teacher_at" in pseudo_labels.__doc__ and "(the model the round starts from)" not in pseudo_labels.__doc__


@pytest.mark.usefixtures("project_home")
def test_the_dock_says_which_unreviewed_frames_a_round_learned_from(make_napari_viewer, qtbot, capsys):
    from napari_particle_detect._napari.finetune_panel import ROUND_COLUMNS

    # The dock as napari adds it from the Plugins menu, as wide as it opens there.
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1280, 720)
    viewer.add_image(small_stack(4, 96), name="cells")
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Particle detection")
    widget.detect.device_combo.setCurrentText("cpu")
    answer_questions(widget)
    qtbot.waitExposed(widget)
    run_detect(widget, qtbot)
    viewer.dims.set_current_step(0, 0)
    widget.review.accept_and_next()
    widget.review.accept_and_next()
    panel = widget.finetune
    assert "halfway" in panel.unlabelled_check.toolTip().lower()
    panel.unlabelled_check.setChecked(True)
    panel.unlabelled_spin.setValue(4)  # two frames are left unreviewed
    teacher_lines = []

    def on_event(event: dict) -> None:
        if event.get("phase") == "teacher":
            qtbot.wait(10)  # the line laid out as shown
            teacher_lines.append((panel.status.text(), panel.status.fontMetrics().horizontalAdvance(
                panel.status.text()), panel.status.contentsRect().width()))

    panel._relay.event.connect(on_event)
    panel.run(panel.round_config(replace(FINE_TUNE, steps_per_epoch=4, batch_size=2, crop=32, threads=1,
                                         learn_criterion=False)))
    qtbot.waitUntil(lambda: not panel.running(), timeout=120_000)
    # The teacher pass's line fits the dock's width: it was cut at "labelling the unreviewed frames it is".
    assert teacher_lines and all(width <= room for _, width, room in teacher_lines), teacher_lines

    project = widget.annotation.project
    info = project.round(2)
    assert (info.unreviewed_frames, info.unreviewed_asked) == ([2, 3], 4)
    saved = json.loads((project.folder / "state.json").read_text())["rounds"][1]
    assert (saved["unreviewed_frames"], saved["unreviewed_asked"]) == ([2, 3], 4)
    learned = "also learned from 2 unreviewed frames (frame 2, frame 3), of 4 asked: no other frame is unreviewed"
    assert f". It {learned}" in panel.status.text()  # after the verdict on the reviewed held-out tiles
    cell = panel.table.item(1, ROUND_COLUMNS.index("trained"))
    assert cell.text() == "2f + 2u" and f"round-002 trained on 2 frames; it {learned}" in cell.toolTip()
    # The table still fits the dock's width, in pixels: its scroll bar's maximum counts whole columns scrolled,
    # and read 0 with part of the last column cut off.
    qtbot.wait(10)  # the columns laid out as shown
    assert panel.table.horizontalHeader().length() <= panel.table.viewport().width()

    capsys.readouterr()  # the dock's notifications so far
    assert main(["rounds", str(project.folder)]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[2].startswith("002    001         2f 0r + 2u  ")
    assert listing[-1] == f"round-002 {learned}"
