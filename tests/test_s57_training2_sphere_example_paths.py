"""Sphere training names an annotated frame by its file's name (``img.tif[0]``), so two files of one name in two
folders (``a/img.tif``, ``b/img.tif``) looked alike in what training refused: 'img.tif[0]: a validation image that
is also trained on (the pixels of img.tif[0])', 'img.tif[0] changed since'. Where two share a name, each is named by
the path the user gave. A run paused before (its state naming both 'img.tif[0]') still resumes on the same files."""

import shutil
from dataclasses import replace

import pytest
import torch

from helpers import TINY, stop_at_check
from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.training import (TrainingCancelled, load_examples, read_training_state,
                                                      resume_state_path, train)
from napari_particle_detect.models.registry import save_tensors

TWO_EPOCHS = replace(TINY, epochs=2, steps_per_epoch=2, validation_images=1, validation_size=48)
DIAMETER = 10.0  # the particles' size, given: no estimate to wait for


def folders(tmp_path, monkeypatch, same: bool) -> tuple[str, str]:
    """Folders a and b, each with an img.tif and its table: the same frame in both, or two frames."""
    monkeypatch.chdir(tmp_path)
    for folder, seed in (("a", 3), ("b", 3 if same else 4)):
        assert main(["synth", f"{folder}_made", "--n", "1", "--shape", "64", "64", "--radius", "4", "6", "--seed",
                     str(seed), "-q"]) == 0
        (tmp_path / folder).mkdir()
        for suffix in (".tif", ".csv"):
            shutil.copyfile(tmp_path / f"{folder}_made" / f"image_000{suffix}", tmp_path / folder / f"img{suffix}")
    return "a", "b"


def examples(*paths: str) -> list:
    return load_examples(list(paths), 12.0, DIAMETER)


def test_a_validation_frame_trained_on_is_named_by_its_folder(tmp_path, monkeypatch):
    a, b = folders(tmp_path, monkeypatch, same=True)
    with pytest.raises(ParticleDetectError) as refused:
        train(TINY, examples=examples(a), validation_examples=examples(b))
    assert str(refused.value).startswith("b/img.tif[0]: a validation image that is also trained on (the pixels of "
                                         "a/img.tif[0])")


@pytest.fixture
def paused(tmp_path, monkeypatch):
    """A run on a/img.tif and b/img.tif stopped in its second epoch; its output."""
    torch.set_num_threads(1)
    a, b = folders(tmp_path, monkeypatch, same=False)
    out = tmp_path / "m.pt"
    with pytest.raises(TrainingCancelled):
        train(TWO_EPOCHS, examples=examples(a, b), out=out, cancel=stop_at_check(4))
    return out


def edit_b() -> None:
    with open("b/img.csv") as table:
        lines = table.read().splitlines()
    with open("b/img.csv", "w") as table:
        table.write("\n".join(lines[:3]) + "\n")


def test_a_resume_on_an_edited_file_names_its_folder(paused):
    edit_b()
    with pytest.raises(ParticleDetectError, match=r"training data: b/img\.tif\[0\] changed since"):
        train(TWO_EPOCHS, examples=examples("a", "b"), out=paused, resume=True)


def test_a_run_paused_before_frames_were_named_by_path_resumes(paused):
    state_path = resume_state_path(paused)
    state = read_training_state(state_path)
    assert [entry[0] for entry in state["data"]["training"]] == ["a/img.tif[0]", "b/img.tif[0]"]
    for entry in state["data"]["training"]:  # as the versions before wrote them
        entry[0] = "img.tif[0]"
    save_tensors(state, state_path)
    before = state_path.read_bytes()
    edit_b()
    with pytest.raises(ParticleDetectError, match=r"training data: b/img\.tif\[0\] changed since"):
        train(TWO_EPOCHS, examples=examples("a", "b"), out=paused, resume=True)
    assert state_path.read_bytes() == before  # refused before anything was written
    shutil.copyfile("b_made/image_000.csv", "b/img.csv")
    assert train(TWO_EPOCHS, examples=examples("a", "b"), out=paused, resume=True).model.card.training["finished"]
