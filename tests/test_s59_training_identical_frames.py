"""The same image reviewed twice (copied into two folders): a round learns it and holds it out once, and its card
says which copy it left out. Learned twice, one copy trained where the other was scored: the verdict was not
honest."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
import torch

from napari_particle_detect.detection.kinds_prediction import shipped_model_path
from napari_particle_detect.learning.finetune import FINE_TUNE, _tiles, example_diameter, fine_tune, split_for_scoring
from napari_particle_detect.learning.kinds_rounds import Reviewed, fine_tune_kind, round_config
from napari_particle_detect.learning.training import Example
from napari_particle_detect.models import load_model
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import tiny_model_file

TINY_ROUND = replace(FINE_TUNE, steps_per_epoch=1, batch_size=2, crop=32, threads=1, learn_criterion=False)


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def copies(image, centres) -> list[Example]:
    return [Example(image, centres, scale=1.0, name="image.tif[0]", given_as=f"{folder}/image.tif[0]")
            for folder in ("a", "b")]


def test_a_sphere_round_learns_and_scores_an_image_copied_into_two_folders_once(tmp_path, caplog):
    sample = synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=0)
    other = synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=1)
    examples = [*copies(sample.image, sample.centres), Example(other.image, other.centres, scale=1.0, name="c.tif[0]")]
    with caplog.at_level(logging.WARNING):
        result = fine_tune(load_model(tiny_model_file(tmp_path)), examples, TINY_ROUND, device="cpu")
    record = result.model.card.training["fine_tuned"]
    assert result.trained_examples == record["examples"] == 2
    assert record["identical_frames"] == {"b/image.tif[0]": "a/image.tif[0]"}
    assert "b/image.tif[0] has the pixels of a/image.tif[0]" in caplog.text
    model = result.model
    kept = [split_for_scoring(e, example_diameter(model, e)).held_area for e in (examples[0], examples[2])]
    assert result.held_out_tiles == sum(_tiles(area) for area in kept)  # the copy's own tiles no longer counted


def test_a_rods_round_learns_an_image_copied_into_two_folders_once():
    from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

    config = benchmark_rod_config("fluorescent", 0.15)
    sample = synthesize_rods(replace(config, optics=replace(config.optics, shape=(64, 64))), seed=70)
    table = sample.table.assign(score=1.0, source="accepted", frame=0)
    reviewed = [Reviewed(Example(sample.image, table[["y", "x"]].to_numpy(float), name=f"frame {i}",
                                 given_as=f"{folder}/rods.tif[0]"), table) for i, folder in enumerate("ab")]
    config = replace(round_config("rods", steps_per_epoch=1, batch_size=2, crop=64), threads=1)
    result = fine_tune_kind(load_model(shipped_model_path("rods"), "cpu"), reviewed, config, "cpu")
    record = result.model.card.training["fine_tuned"]
    assert result.trained_examples == 1
    assert record["identical_frames"] == {"b/rods.tif[0]": "a/rods.tif[0]"}
    assert list(record["scales"]) == ["frame 0"]
