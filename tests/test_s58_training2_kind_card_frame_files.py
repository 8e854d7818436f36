"""A rods or chains card's ``scales`` name its frames by place ('frame 0' of a round, 'annotated example 1' of a
training run): nothing said which file each was, so a resampled frame could not be found from the card. The card's
``frame_files`` says it, by the path the user gave, the ``scales`` keys as they were."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.kinds.registry import get_kind
from napari_particle_detect.models import load_model


def write_rods(folder: Path, seed: int) -> None:
    folder.mkdir()
    image, table = get_kind("rods").example(np.random.default_rng(seed), 64, seed)
    tifffile.imwrite(folder / "img.tif", image)
    table.to_csv(folder / "img.csv", index=False)


def test_a_kinds_round_card_says_which_file_each_scaled_frame_is(tmp_path, capsys):
    for folder, seed in (("a", 0), ("b", 5)):
        write_rods(tmp_path / folder, seed)
    out = tmp_path / "round"
    code = main(["-q", "train", "--kind", "rods", str(tmp_path / "a"), str(tmp_path / "b"), "--from", "rods",
                 "-o", str(out), "--steps-per-epoch", "1", "--batch-size", "1", "--crop", "32", "--threads", "1"])
    assert code == 0, capsys.readouterr().err
    tuned = load_model(out.with_suffix(".pt")).card.training["fine_tuned"]
    assert list(tuned["scales"]) == ["frame 0", "frame 1"]
    assert tuned["frame_files"] == {"frame 0": f"{tmp_path / 'a' / 'img.tif'}[0]",
                                    "frame 1": f"{tmp_path / 'b' / 'img.tif'}[0]"}


def test_a_kinds_training_card_says_which_file_each_scaled_frame_is(tmp_path, capsys):
    for folder, seed in (("a", 0), ("b", 5)):
        write_rods(tmp_path / folder, seed)
    out = tmp_path / "trained"
    code = main(["-q", "train", "--kind", "rods", str(tmp_path / "a"), "--validate", str(tmp_path / "b"),
                 "-o", str(out), "--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "1", "--crop", "32",
                 "--threads", "1"])
    assert code == 0, capsys.readouterr().err
    training = load_model(out.with_suffix(".pt")).card.training
    assert list(training["scales"]) == ["annotated example 0", "validation example 0"]
    assert training["frame_files"] == {"annotated example 0": f"{tmp_path / 'a' / 'img.tif'}[0]",
                                       "validation example 0": f"{tmp_path / 'b' / 'img.tif'}[0]"}
