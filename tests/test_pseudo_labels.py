"""Semi-supervised rounds: the teacher's pseudo-labels on unreviewed frames (confident particles,
confident background, the hesitant band masked out), reviewed areas and held-out tiles never
pseudo-labelled, verdicts on reviewed held-out tiles only, cancel in the teacher pass, the CLI."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import ndimage

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.kinds.evaluation import count_in_area
from napari_particle_detect.learning.finetune import (
    FINE_TUNE, GUARD_DIAMETERS, example_diameter, fine_tune, pseudo_examples, split_for_scoring,
)
from napari_particle_detect.models import load_model
from napari_particle_detect.models.registry import WEIGHTS_DIR
from napari_particle_detect.learning.pseudo_labels import choose_frames, label_frame, pseudo_targets, spread
from napari_particle_detect.synthetic.spheres import SynthConfig, benchmark_config, synthesize
from napari_particle_detect.learning.training import BatchSource, Example, TrainingCancelled

from helpers import tiny_model_file

SEMI = replace(FINE_TUNE, steps_per_epoch=4, batch_size=2, crop=32, threads=1, unlabelled_frames=2,
               learn_criterion=False)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    torch.set_num_threads(1)
    return load_model(tiny_model_file(tmp_path_factory.mktemp("model")))


@pytest.fixture(scope="module")
def sure_teacher():
    """A teacher sure of something on these frames (the shipped model): the tiny one is unsure all over them, so a
    round learns nothing from its labels (finetune.label_unreviewed drops them)."""
    torch.set_num_threads(1)
    return load_model(WEIGHTS_DIR / "unet.pt")


def frames(n: int, size: int = 64, seed: int = 0):
    return [synthesize(benchmark_config("fluorescent", 0.4, (size, size)), seed=seed + i) for i in range(n)]


def test_confident_particles_and_background_are_targets_and_the_hesitant_band_is_masked():
    heat = np.zeros((60, 60), np.float32)
    heat[10:14, 10:14] = 0.9  # a confident particle
    heat[40:44, 40:44] = 0.3  # a hesitant candidate
    heat[30, 5] = 0.2  # a faint response no candidate explains
    centres = np.array([[11.5, 11.5], [41.5, 41.5]])
    scores = np.array([0.9, 0.3])
    exclude = np.zeros_like(heat, bool)
    exclude[:, 50:] = True  # a reviewed strip
    particles, area = pseudo_targets(centres, scores, heat, radius=4.0, high=0.5, low=0.15, exclude=exclude)
    assert np.allclose(particles, [[11.5, 11.5]])  # only the confident one is a particle
    assert area[12, 12] and area[11, 15]  # its peak and shoulders are taught, though hot
    assert not area[41, 41] and not area[41, 45] and area[41, 47]  # masked within one radius of the hesitant one
    assert not area[30, 5]  # unexplained response: not confident background
    assert area[2, 30] and area[25, 25]  # confident background
    assert not area[:, 50:].any()  # the reviewed strip is never pseudo-labelled


def test_the_shipped_teacher_labels_a_frame_and_its_confident_particles_are_real():
    shipped = load_model(WEIGHTS_DIR / "unet.pt")
    # Dim, blurred, crowded: optics the shipped model hesitates on (benchmarks/loop.py's dim_small).
    sample = synthesize(SynthConfig(shape=(96, 96), look="fluorescent", radius_range=(3.5, 4.5), area_fraction=0.6,
                                    psf_sigma=2.0, peak_photons=40.0, read_noise=2.0), seed=30)
    label = label_frame(shipped, sample.image, 1.0, "frame 9", high=0.5, low=0.15)
    assert label.example.name == "frame 9" and label.example.area.shape == sample.image.shape
    print(label.confident, label.hesitant, label.masked_share)
    assert label.confident >= 5 and label.hesitant >= 1 and 0.0 < label.masked_share < 0.8
    taught = count_in_area(label.example.centres, sample.centres, label.example.area, 3.0)
    assert taught.precision > 0.9  # what the student is told is a particle, is one
    with pytest.raises(ParticleDetectError, match="low < high"):
        label_frame(shipped, sample.image, 1.0, "x", high=0.2, low=0.3)


def test_frames_are_spread_over_the_stack_or_taken_least_uncertain_first():
    assert spread(3, range(10)) == [0, 4, 9] and spread(5, [1, 2]) == [1, 2] and spread(0, range(4)) == []
    assert choose_frames(10, 3, reviewed={0, 4}) == [1, 6, 9]
    sure, unsure = (np.zeros((3, 2)), np.array([0.9, 0.95, 0.05])), (np.zeros((3, 2)), np.array([0.5, 0.45, 0.55]))
    detections = {1: unsure, 2: sure, 3: unsure, 5: sure}
    assert choose_frames(6, 2, {0}, "confident", detections, threshold=0.5) == [2, 5]
    with pytest.raises(ParticleDetectError, match="spread"):
        choose_frames(6, 2, {0}, "nearest", detections)


def test_reviewed_areas_and_held_out_tiles_are_never_pseudo_labelled(sure_teacher):
    sample = frames(1, 160, seed=40)[0]
    region = np.zeros(sample.image.shape, bool)
    region[:96, :96] = True  # the user reviewed this region of frame 0 only
    reviewed = Example(sample.image, sample.centres[region[sample.centres[:, 0].astype(int),
                                                             sample.centres[:, 1].astype(int)]],
                       1.0, "frame 0", region)
    diameter = example_diameter(sure_teacher, reviewed)
    split = split_for_scoring(reviewed, diameter)
    assert split.held_area.any()
    unreviewed = [Example(sample.image, np.zeros((0, 2)), 1.0, "frame 0"),  # the same frame's unreviewed part
                  Example(frames(1, 160, seed=41)[0].image, np.zeros((0, 2)), 1.0, "frame 1")]
    events = []
    labelled = pseudo_examples(sure_teacher, [split], unreviewed, replace(SEMI, unlabelled_frames=2), "cpu",
                               events.append, None)
    assert [e.name for e in labelled] == ["frame 0", "frame 1"]
    guarded = ndimage.distance_transform_edt(~split.held_area) <= GUARD_DIAMETERS * diameter
    assert not (labelled[0].area & (region | guarded)).any()  # reviewed labels win; held-out tiles stay out
    assert [e["done"] for e in events if e["phase"] == "teacher"] == [0, 1, 2]
    # Pseudo crops make up their share of a batch, under strong augmentation when asked (the mask shifts
    # with the image, staying a mask).
    source = BatchSource(replace(SEMI, pseudo_share=1.0, crop=32, batch_size=4, pseudo_strong=True), [reviewed],
                         seed=0, pseudo=labelled)
    images, targets, weights = source.batch()
    assert images.shape == (4, 1, 32, 32) and np.isfinite(images).all()
    assert set(np.unique(weights)) <= {0.0, 1.0}


def test_a_round_with_unlabelled_frames_is_scored_on_reviewed_held_out_tiles_only(sure_teacher):
    samples = frames(4, 64, seed=50)
    examples = [Example(s.image, s.centres, 1.0, f"frame {i}") for i, s in enumerate(samples[:2])]
    unlabelled = [Example(s.image, np.zeros((0, 2)), 1.0, f"frame {i + 2}") for i, s in enumerate(samples[2:])]
    phases = []
    config = replace(SEMI, steps_per_epoch=10)
    plain = fine_tune(sure_teacher, examples, replace(config, unlabelled_frames=0), "cpu")
    semi = fine_tune(sure_teacher, examples, config, "cpu", progress=lambda e: phases.append(e["phase"]),
                     unlabelled=lambda n: unlabelled[:n])
    assert semi.pseudo_frames == 2 and plain.pseudo_frames == 0
    assert semi.model.card.training["fine_tuned"]["pseudo_labelled_frames"] == 2
    # The same held-out tiles and the same reviewed particles in them: pseudo-labels never count.
    assert semi.held_out_tiles == plain.held_out_tiles
    truth_held = lambda r: r.score.counts.tp + r.score.counts.fn  # noqa: E731
    assert truth_held(semi) == truth_held(plain)
    assert semi.parent_score.f1 == plain.parent_score.f1
    # The student trains on the reviewed areas first, then labels the unreviewed frames, then trains on both.
    teacher = phases.index("teacher")
    assert "training" in phases[:teacher] and "training" in phases[teacher:]


def test_batches_drawn_ahead_never_cross_the_teachers_step(sure_teacher, monkeypatch):
    """Batches are made on a worker while the step before trains; none made before the teacher's
    labels arrive may be used after them, and no batch is drawn that no step uses."""
    samples = frames(4, 64, seed=55)
    examples = [Example(s.image, s.centres, 1.0, f"frame {i}") for i, s in enumerate(samples[:2])]
    unlabelled = [Example(s.image, np.zeros((0, 2)), 1.0, f"frame {i + 2}") for i, s in enumerate(samples[2:])]
    events = []
    batch, set_pseudo = BatchSource.batch, BatchSource.set_pseudo
    monkeypatch.setattr(BatchSource, "batch", lambda self: events.append("batch") or batch(self))
    monkeypatch.setattr(BatchSource, "set_pseudo", lambda self, p: events.append("labels") or set_pseudo(self, p))
    config = replace(SEMI, steps_per_epoch=10, pseudo_teacher_at=0.5)
    result = fine_tune(sure_teacher, examples, config, "cpu", unlabelled=unlabelled)
    assert result.pseudo_frames == 2
    assert events == ["labels"] + ["batch"] * 5 + ["labels"] + ["batch"] * 5


def test_cancel_during_the_teacher_pass_stops_before_training(tiny_model):
    samples = frames(4, 64, seed=60)
    examples = [Example(s.image, s.centres, 1.0, f"frame {i}") for i, s in enumerate(samples[:2])]
    unlabelled = [Example(s.image, np.zeros((0, 2)), 1.0, f"frame {i + 2}") for i, s in enumerate(samples[2:])]
    events = []
    with pytest.raises(TrainingCancelled):
        fine_tune(tiny_model, examples, replace(SEMI, steps_per_epoch=10), "cpu", progress=events.append,
                  cancel=lambda: any(e["phase"] == "teacher" for e in events), unlabelled=unlabelled)
    # Stopped at the next frame of the teacher pass: one frame labelled of two, no training after it.
    assert events[-1] == {"phase": "teacher", "done": 0, "total": 2}


def test_the_cli_learns_from_unlabelled_images(tmp_path, sure_teacher):
    import tifffile

    from napari_particle_detect.cli.main import main
    from napari_particle_detect.models import save_model

    model_path = save_model(sure_teacher, tmp_path / "sure")
    data = tmp_path / "data"
    data.mkdir()
    for i, sample in enumerate(frames(2, 64, seed=70)):
        tifffile.imwrite(data / f"im{i}.tif", sample.image)
        pd.DataFrame({"y": sample.centres[:, 0], "x": sample.centres[:, 1]}).to_csv(data / f"im{i}.csv", index=False)
    stack = tmp_path / "unreviewed.tif"
    tifffile.imwrite(stack, np.stack([s.image for s in frames(5, 64, seed=80)]))
    out = tmp_path / "tuned"
    common = ["--steps-per-epoch", "4", "--batch-size", "2", "--crop", "32", "--threads", "1", "--diameter", "12",
              "--device", "cpu"]
    assert main(["train", str(data), "--from", str(model_path), "-o", str(out), "--unlabelled", str(stack),
                 "--unlabelled-frames", "3", *common]) == 0
    card = load_model(out.with_suffix(".pt")).card
    assert card.training["fine_tuned"]["pseudo_labelled_frames"] == 3
    assert card.training["fine_tuned"]["config"]["unlabelled_frames"] == 3
    assert main(["train", "--from", str(model_path), "-o", str(tmp_path / "x"), "--unlabelled", str(stack)]) == 2
