"""A run resumed on other annotated frames than it started with (a table edited between the sessions, a file
added or gone, another --diameter) is refused naming the frame, as other settings are: it was taken silently, and
the resumed run ended as no uninterrupted run on either data would."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.kinds.registry import get_kind
from napari_particle_detect.learning.kinds_training import KindTrainConfig, train_kind
from napari_particle_detect.learning.training import Example, TrainingCancelled, train
from napari_particle_detect.synthetic.spheres import SynthConfig, synthesize

from helpers import TINY, stop_at_check

TWO_EPOCHS = replace(TINY, epochs=2, steps_per_epoch=2, validation_images=1, validation_size=48)
REFUSED = "the interrupted run started on other training data: {}"


def frame(seed: int) -> Example:
    sample = synthesize(SynthConfig(shape=(64, 64), radius_range=(4.0, 6.0), area_fraction=0.3), seed=seed)
    return Example(sample.image, sample.centres, scale=1.0, name=f"img{seed}.tif[0]")


@pytest.fixture
def paused(tmp_path):
    """A sphere run on two annotated frames stopped in its second epoch: its output and its frames."""
    torch.set_num_threads(1)
    frames = [frame(1), frame(2)]
    out = tmp_path / "m.pt"
    with pytest.raises(TrainingCancelled):
        train(TWO_EPOCHS, examples=frames, out=out, cancel=stop_at_check(4))
    return out, frames


def test_a_sphere_run_resumed_on_an_edited_table_is_refused_naming_the_frame(paused):
    out, (first, second) = paused
    edited = replace(first, centres=first.centres[:2])
    with pytest.raises(ParticleDetectError, match=REFUSED.format(r"img1\.tif\[0\] changed since")):
        train(TWO_EPOCHS, examples=[edited, second], out=out, resume=True)
    with pytest.raises(ParticleDetectError, match=REFUSED.format(r"img2\.tif\[0\] is gone")):
        train(TWO_EPOCHS, examples=[first], out=out, resume=True)
    with pytest.raises(ParticleDetectError, match=REFUSED.format(r"img1\.tif\[0\] changed since")):
        train(TWO_EPOCHS, examples=[replace(first, scale=1.5), second], out=out, resume=True)
    # Refused before any work: the same frames resume it still, to its end.
    result = train(TWO_EPOCHS, examples=[first, second], out=out, resume=True)
    assert result.model.card.training["finished"]


def test_a_kind_run_resumed_on_another_frame_is_refused(tmp_path):
    torch.set_num_threads(1)
    kind = get_kind("rods")
    frames = [kind.example(np.random.default_rng(seed), 48, seed) for seed in (1, 2)]
    config = KindTrainConfig(kind="rods", epochs=2, steps_per_epoch=2, batch_size=2, crop=32, validation_images=1,
                             validation_size=48, threads=1)
    out = tmp_path / "r.pt"
    with pytest.raises(TrainingCancelled):
        train_kind(config, out, examples=frames, cancel=stop_at_check(4))
    other = (frames[1][0], frames[1][1].iloc[:1])
    with pytest.raises(ParticleDetectError, match=REFUSED.format("annotated frame 1 changed since")):
        train_kind(config, out, examples=[frames[0], other], resume=True)
    assert train_kind(config, out, examples=frames, resume=True).card.training["finished"]


def test_train_resume_after_a_table_was_edited_says_so_in_one_line(tmp_path, capsys, monkeypatch):
    # The command line, as a user met it: DATA's table edited between the sessions.
    monkeypatch.chdir(tmp_path)
    assert main(["synth", "data", "--n", "2", "--shape", "64", "64", "--radius", "4", "6", "--seed", "3", "-q"]) == 0
    run = ["train", "data", "-o", "m.pt", "--epochs", "2", "--steps-per-epoch", "2", "--batch-size", "2",
           "--crop", "32", "--threads", "1", "--device", "cpu", "-q"]
    assert main(run + ["--minutes", "0.0001"]) == 0  # stops after its first step
    lines = open("data/image_001.csv").read().splitlines()
    open("data/image_001.csv", "w").write("\n".join(lines[:2]) + "\n")
    assert main(run + ["--resume"]) == 2
    said = capsys.readouterr().err
    assert REFUSED.format("image_001.tif[0] changed since") in said and "or start again (--overwrite)" in said
