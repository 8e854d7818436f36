"""Two annotated files of one name in two folders (``a/img.tif``, ``b/img.tif``) share their frames' names: a resume
check that keyed its frames by name alone would let the second's digest stand for both and refuse the same files as
changed. Compared frame by frame (scales within a tolerance), they resume; an edit is refused still."""

from dataclasses import replace

import pytest
import torch

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.training import Example, TrainingCancelled, train
from napari_particle_detect.synthetic.spheres import SynthConfig, synthesize

from helpers import TINY, stop_at_check

TWO_EPOCHS = replace(TINY, epochs=2, steps_per_epoch=2, validation_images=1, validation_size=48)


def same_named_frames() -> list[Example]:
    samples = [synthesize(SynthConfig(shape=(64, 64), radius_range=(4.0, 6.0), area_fraction=0.3), seed=s)
               for s in (1, 2)]
    return [Example(s.image, s.centres, scale=1.0, name="img.tif[0]") for s in samples]


def test_a_run_on_two_files_of_one_name_resumes_on_the_same_files(tmp_path):
    torch.set_num_threads(1)
    out = tmp_path / "m.pt"
    with pytest.raises(TrainingCancelled):
        train(TWO_EPOCHS, examples=same_named_frames(), out=out, cancel=stop_at_check(4))
    first, second = same_named_frames()
    with pytest.raises(ParticleDetectError, match=r"img\.tif\[0\] changed since"):  # an edit is refused still
        train(TWO_EPOCHS, examples=[first, replace(second, centres=second.centres[:2])], out=out, resume=True)
    assert train(TWO_EPOCHS, examples=[first, second], out=out, resume=True).model.card.training["finished"]
