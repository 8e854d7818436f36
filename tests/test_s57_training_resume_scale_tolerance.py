"""A resume compares each frame's scale within a tolerance: hashed with the pixels, a scale's last digit (worked
out in floats, 1.2500000000000002 on one machine, 1.25 on another) refused the resume as other data. Another
diameter is refused still, and says it is the scale that changed."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.kinds.registry import get_kind
from napari_particle_detect.learning.kinds_training import KindTrainConfig, train_kind
from napari_particle_detect.learning.training import Example, TrainingCancelled, train
from napari_particle_detect.synthetic.spheres import SynthConfig, synthesize

from helpers import TINY, stop_at_check

TWO_EPOCHS = replace(TINY, epochs=2, steps_per_epoch=2, validation_images=1, validation_size=48)
SCALE = 1.25
NEXT_FLOAT = float(np.nextafter(SCALE, 2.0))  # 1.2500000000000002


def frames(scale: float) -> list[Example]:
    samples = [synthesize(SynthConfig(shape=(64, 64), radius_range=(4.0, 6.0), area_fraction=0.3), seed=s)
               for s in (1, 2)]
    return [Example(s.image, s.centres, scale=scale, name=f"img{i}.tif[0]") for i, s in enumerate(samples)]


def test_a_sphere_run_resumes_at_a_scale_a_last_digit_away_and_not_at_another(tmp_path):
    torch.set_num_threads(1)
    out = tmp_path / "m.pt"
    with pytest.raises(TrainingCancelled):
        train(TWO_EPOCHS, examples=frames(SCALE), out=out, cancel=stop_at_check(4))
    with pytest.raises(ParticleDetectError, match=r"img0\.tif\[0\] changed since") as refused:
        train(TWO_EPOCHS, examples=frames(1.3), out=out, resume=True)
    assert train(TWO_EPOCHS, examples=frames(NEXT_FLOAT), out=out, resume=True).model.card.training["finished"]
    assert "(its scale: 1.25 then, 1.3 now)" in str(refused.value)  # the refusal says what changed


def scales_read_elsewhere(state_file, change) -> None:
    """The resume state as another machine wrote it: each frame's scale as ``change`` makes it."""
    state = torch.load(state_file, map_location="cpu", weights_only=True)
    for entry in state["data"]["training"]:
        entry[2] = change(entry[2])
    torch.save(state, state_file)


def test_a_rods_run_resumes_from_a_state_whose_estimated_scales_differ_in_a_last_digit(tmp_path):
    torch.set_num_threads(1)
    kind = get_kind("rods")
    examples = [kind.example(np.random.default_rng(seed), 64, seed) for seed in (1, 2)]
    config = KindTrainConfig(kind="rods", epochs=2, steps_per_epoch=2, batch_size=2, crop=32, validation_images=1,
                             validation_size=48, threads=1)
    out = tmp_path / "r.pt"
    with pytest.raises(TrainingCancelled):
        train_kind(config, out, examples=examples, cancel=stop_at_check(3))
    state_file = out.with_suffix(".state.pt")
    saved = state_file.read_bytes()
    scales_read_elsewhere(state_file, lambda scale: scale * 1.1)  # another size: other data
    with pytest.raises(ParticleDetectError, match=r"annotated frame 0 changed since \(its scale: "):
        train_kind(config, out, examples=examples, resume=True)
    state_file.write_bytes(saved)
    scales_read_elsewhere(state_file, lambda scale: float(np.nextafter(scale, 10.0)))
    assert train_kind(config, out, examples=examples, resume=True).card.training["finished"]


def test_a_state_written_before_scales_were_kept_apart_is_checked_by_frame_names(tmp_path):
    # Its digests held the scale: compared with today's they would refuse every resume, so names alone are.
    torch.set_num_threads(1)
    out = tmp_path / "m.pt"
    with pytest.raises(TrainingCancelled):
        train(TWO_EPOCHS, examples=frames(SCALE), out=out, cancel=stop_at_check(4))
    state_file = out.with_suffix(".state.pt")
    state = torch.load(state_file, map_location="cpu", weights_only=True)
    state["data"] = {role: [entry[:1] + ["an older digest"] for entry in entries]
                     for role, entries in state["data"].items()}
    torch.save(state, state_file)
    with pytest.raises(ParticleDetectError, match=r"img1\.tif\[0\] is gone"):
        train(TWO_EPOCHS, examples=frames(SCALE)[:1], out=out, resume=True)
    assert train(TWO_EPOCHS, examples=frames(SCALE), out=out, resume=True).model.card.training["finished"]
