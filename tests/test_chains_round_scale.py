"""A chains round learns and is judged at the scale detection reads the frame at: beads outside the sizes the
model detects as they come are resampled to its working size by detection (kinds_prediction.bead_sizing), so
the round's crops, targets, training areas and held-out tiles are resampled alike. Before, a round on 22 px
beads trained and scored at the image's own scale: its verdict did not say what detection would do."""

import copy

import numpy as np
import pytest

from napari_particle_detect.detection.kinds_prediction import (
    detect_kind, network_frame, predict_maps, shipped_model_path,
)
from napari_particle_detect.detection.preprocessing import FrameRecord, check_frame
from napari_particle_detect.kinds.registry import get_kind
from napari_particle_detect.learning import kinds_rounds
from napari_particle_detect.learning.kinds_rounds import (
    Reviewed, at_detection_scale, detection_scale, fine_tune_kind, round_config,
)
from napari_particle_detect.learning.kinds_training import detection_input
from napari_particle_detect.learning.training import Example
from napari_particle_detect.models import load_model
from napari_particle_detect.projects.kinds_project import typical_size
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains


def reviewed_chains(radius: float, seed: int = 8) -> Reviewed:
    sample = synthesize_chains(benchmark_chain_config("fluorescent", 0.3, shape=(128, 128), radius=radius), seed=seed)
    table = sample.table.assign(score=1.0, source="accepted", frame=0)
    return Reviewed(Example(sample.image, table[["y", "x"]].to_numpy(float), name="frame 0"), table)


def as_detection_reads_it(image: np.ndarray, scale: float) -> np.ndarray:
    return network_frame(check_frame(image), scale, False, FrameRecord())[0]


def test_a_round_on_large_beads_trains_and_is_scored_at_the_scale_detection_uses(monkeypatch):
    reviewed = reviewed_chains(radius=11.0)  # 22 px beads: detection resamples them to about 12 px
    image = reviewed.example.image
    scale = detect_kind(image, "chains", device="cpu").attrs["scale"]
    assert scale < 0.8
    expected = as_detection_reads_it(image, scale)

    seen = {}
    train_heads, held_out_maps, statistics = (kinds_rounds.train_heads, kinds_rounds.held_out_maps,
                                              kinds_rounds.statistics_candidate)

    def training_on(model, kind, examples, *rest):
        seen["trained"] = examples
        return train_heads(model, kind, examples, *rest)

    def scored_on(model, splits, device, which, *rest):
        maps = held_out_maps(model, splits, device, which, *rest)
        seen.setdefault(which, (splits, maps))
        return maps

    def statistics_of(model, images, *rest):
        seen["statistics"] = list(images)
        return statistics(model, seen["statistics"], *rest)

    monkeypatch.setattr(kinds_rounds, "train_heads", training_on)
    monkeypatch.setattr(kinds_rounds, "held_out_maps", scored_on)
    monkeypatch.setattr(kinds_rounds, "statistics_candidate", statistics_of)
    model = load_model(shipped_model_path("chains"), "cpu")
    unlabelled = reviewed_chains(radius=11.0, seed=9).example.image
    config = round_config("chains", steps_per_epoch=2, batch_size=2, crop=48)
    result = fine_tune_kind(model, [reviewed], config, "cpu", unlabelled=[unlabelled])

    assert result.model.card.training["fine_tuned"]["scales"] == {"frame 0": pytest.approx(scale)}
    # The crops are cut from the frame as detection feeds it to the network, their targets' beads as large.
    [(trained_on, table, area)] = seen["trained"]
    np.testing.assert_array_equal(trained_on, expected)
    assert area.shape == expected.shape
    assert typical_size("chains", table) == pytest.approx(scale * typical_size("chains", reviewed.table), rel=0.02)
    # The verdict: the parent's held-out maps are detection's own of the resampled frame.
    [split], [maps] = seen["parent"]
    assert split.held_area.any() and split.held_area.shape == expected.shape
    np.testing.assert_array_equal(detection_input(split.example.image), expected)
    # To float rounding: the round runs torch on its own thread count.
    np.testing.assert_allclose(maps, predict_maps(copy.deepcopy(model.network).eval(), expected), atol=1e-5)
    # The batch-norm statistics read the reviewed and the unlabelled frame resampled alike.
    assert [frame.shape for frame in seen["statistics"]] == [expected.shape, expected.shape]


def test_beads_detected_as_they_come_leave_the_round_as_it_was_and_a_region_is_resampled_with_its_frame():
    kind = get_kind("chains")
    in_range = reviewed_chains(radius=6.0)  # 12 px beads: the working size
    assert detection_scale("chains", in_range.example) == 1.0
    assert at_detection_scale(kind, in_range, 1.0) is in_range

    large = reviewed_chains(radius=11.0)
    area = np.zeros(large.example.image.shape, bool)
    area[:64] = True  # the top half reviewed
    region = Reviewed(Example(large.example.image, large.example.centres, name="frame 0", area=area), large.table)
    resampled = at_detection_scale(kind, region, 0.5)
    assert resampled.example.image.shape == resampled.example.area.shape == (64, 64)
    assert resampled.example.area[:32].all() and not resampled.example.area[32:].any()
    centres = large.table[["y", "x"]].to_numpy()
    np.testing.assert_allclose(resampled.table[["y", "x"]].to_numpy(), (centres + 0.5) / 2 - 0.5)
    assert list(resampled.table.columns) == list(large.table.columns)
