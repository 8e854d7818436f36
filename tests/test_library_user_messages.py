"""What the library tells a Python caller: refusals that name the keyword as well as the command line's option,
scores that refuse tables of another kind, warnings where a score would read as a failed detection, and what a
sphere table records of its detection."""

import logging

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect import (
    ParticleDetectError, SynthConfig, detect, evaluate_frames, evaluate_rods, load_model, read_image, score, synthesize,
)
from napari_particle_detect.kinds.evaluation import match, matched_offsets

RODS = pd.DataFrame({"frame": [0, 0, 0], "y": [10.0, 30.0, 50.0], "x": [12.0, 32.0, 52.0],
                     "angle": [20.0, 75.0, 150.0], "length": [14.0, 16.0, 18.0]})
CHAINS = pd.DataFrame({"frame": [0, 0], "y": [10.0, 14.0], "x": [10.0, 10.0], "chain": [0, 0], "index": [0, 1]})
CENTRES = pd.DataFrame({"frame": [0, 0, 0], "y": [10.0, 30.0, 50.0], "x": [12.0, 32.0, 52.0]})


def test_a_model_of_another_kind_is_refused_naming_the_keyword_and_the_option():
    image = synthesize(SynthConfig(shape=(48, 48)), seed=1).image
    with pytest.raises(ParticleDetectError, match=r"finds rods, not spheres; give a sphere model, or kind='rods' "
                                                  r"\(--kind rods\)$"):
        detect(image, model="rods", device="cpu")


def test_a_colour_image_is_refused_naming_the_channel_keyword_and_option(tmp_path):
    path = tmp_path / "hw3.tif"
    tifffile.imwrite(path, np.random.default_rng(0).integers(0, 255, (24, 24, 3), dtype=np.uint8), photometric="rgb")
    with pytest.raises(ParticleDetectError) as refused:
        read_image(path)
    message = str(refused.value)
    assert "\n" not in message and message.endswith("give channel=N (--channel N), N from 0 to 2, to detect one")
    with pytest.raises(ParticleDetectError, match=r"hw3.tif: channel=3 \(--channel 3\), but it has 3 channels"):
        read_image(path, channel=3)


@pytest.mark.parametrize(("table", "kind"), [(RODS, "rods"), (CHAINS, "chains")])
def test_score_refuses_a_rods_or_chains_table_as_evaluate_frames_does(table, kind):
    refusal = rf"truth: a {kind} table \(.* columns\), not sphere centres; score it with kinds\.{kind}\.evaluate_{kind}"
    with pytest.raises(ParticleDetectError, match=refusal):
        evaluate_frames(CENTRES, table)
    with pytest.raises(ParticleDetectError, match=refusal):
        score(CENTRES[["y", "x"]], table)
    with pytest.raises(ParticleDetectError, match=refusal.replace("truth", "predicted")):
        score(table, CENTRES[["y", "x"]].to_numpy())


@pytest.mark.parametrize(("table", "kind"), [(RODS, "rods"), (CHAINS, "chains")])
def test_match_and_matched_offsets_refuse_a_rods_or_chains_table_too(table, kind):
    refusal = rf"predicted: a {kind} table \(.* columns\), not sphere centres; score it with kinds\.{kind}\.evaluate_{kind}"
    with pytest.raises(ParticleDetectError, match=refusal):
        match(table, CENTRES[["y", "x"]].to_numpy())
    with pytest.raises(ParticleDetectError, match=refusal):
        matched_offsets(table, CENTRES[["y", "x"]].to_numpy())


def test_tables_that_share_no_frame_number_are_scored_with_a_warning_naming_their_frames(caplog):
    truth = CENTRES.assign(frame=[1, 1, 2])  # numbered from 1; detect numbers from 0
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        scores = evaluate_frames(CENTRES, truth)
    assert scores["f1"].tolist() == [0.0, 0.0, 0.0, 0.0]
    said = [r.getMessage() for r in caplog.records if "share no frame" in r.getMessage()]
    assert said == ["predicted and truth share no frame number (predicted: frame 0; truth: frames 1-2): every frame "
                    "scores F1 0; number both tables' frames alike"], caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        evaluate_frames(CENTRES, CENTRES.assign(frame=[0, 1, 1]))  # a frame in common: no warning
        evaluate_frames(CENTRES.iloc[:0], truth)  # nothing predicted: no frame to compare
    assert "share no frame" not in caplog.text


def test_rod_angles_in_radians_beside_degrees_are_warned_about(caplog):
    radians = RODS.assign(angle=np.radians(RODS["angle"]))
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        evaluate_rods(RODS, radians)
    said = [r.getMessage() for r in caplog.records if "radians" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("truth: its rod angles all lie within [0, pi]"), caplog.text
    assert "look like radians, and angles are degrees in [0, 180)" in said[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        evaluate_rods(radians, RODS)
    assert caplog.text.count("look like radians") == 1 and "predicted: its rod angles" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        scores, _ = evaluate_rods(RODS, RODS)
        # Near-horizontal rods, a degree or two apart, are degrees too.
        evaluate_rods(RODS.assign(angle=[178.0, 2.0, 1.0]), RODS.assign(angle=[0.5, 1.5, 2.5]))
    assert scores.f1 == 1.0 and "radians" not in caplog.text


def test_a_sphere_table_records_the_threshold_applied():
    image = synthesize(SynthConfig(shape=(48, 48), radius_range=(3, 4)), seed=1).image
    own = detect(image, device="cpu", diameter=7.0)
    assert own.attrs["threshold"] == load_model("unet").card.threshold
    assert detect(image, device="cpu", diameter=7.0, threshold=0.6).attrs["threshold"] == 0.6


def test_an_estimated_diameter_larger_than_the_image_is_refused_as_a_given_one_is():
    # This 20 px crop reads as 27 px particles (a wrong centre followed); given, 27 px is refused.
    crop = synthesize(SynthConfig(shape=(128, 128)), seed=2).image[:20, 48:68]
    with pytest.raises(ParticleDetectError, match=r"^image: diameter 27 px is larger than the image \(20 x 20 px\)"):
        detect(crop, device="cpu", diameter=27.0)
    with pytest.raises(ParticleDetectError) as refused:
        detect(crop, device="cpu")
    assert str(refused.value) == ("image: the particle diameter estimated (27.0 px) is larger than the image (20 x 20 "
                                  "px), too small to estimate it in; give diameter= (--diameter) in pixels")
    assert detect(crop, device="cpu", diameter=8.0).attrs["diameter"] == 8.0
