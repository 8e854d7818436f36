"""``train --from MODEL DATA --unlabelled STACK`` with no --unlabelled-frames asks for the default number of frames but
no more than STACK holds: it asked for 8 of a 2-frame stack, then warned even with -q that the round learned from
"2 ..., of 8 asked", a shortfall of a number the user never gave. A number given is still held to."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tifffile
import torch

from napari_particle_detect.cli.main import main
from napari_particle_detect.models import load_model
from napari_particle_detect.models.registry import default_model_path
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize


@pytest.fixture
def round_files(tmp_path):
    """One annotated image, a 2-frame unannotated stack, and the start of a short round on them."""
    torch.set_num_threads(1)
    samples = [synthesize(benchmark_config("fluorescent", 0.3, (64, 64)), seed=s) for s in range(3)]
    data = tmp_path / "data"
    data.mkdir()
    tifffile.imwrite(data / "im.tif", samples[0].image)
    pd.DataFrame({"y": samples[0].centres[:, 0], "x": samples[0].centres[:, 1]}).to_csv(data / "im.csv", index=False)
    stack = tmp_path / "raw.tif"
    tifffile.imwrite(stack, np.stack([s.image for s in samples[1:]]))
    return ["-q", "train", str(data), "--from", str(default_model_path()), "--unlabelled", str(stack),
            "--steps-per-epoch", "2", "--batch-size", "2", "--crop", "32", "--threads", "1", "--diameter", "12",
            "--device", "cpu"]


def test_the_default_asks_no_more_frames_than_the_unlabelled_files_hold(tmp_path, round_files, capsys):
    out = tmp_path / "tuned.pt"
    assert main([*round_files, "-o", str(out)]) == 0
    assert "asked" not in capsys.readouterr().err
    record = load_model(out).card.training["fine_tuned"]
    assert record["unlabelled_asked"] == 2 and len(record["pseudo_labelled"]) == 2


def test_a_number_given_above_what_the_files_hold_is_still_warned_of(tmp_path, round_files, capsys):
    assert main([*round_files, "-o", str(tmp_path / "tuned.pt"), "--unlabelled-frames", "5"]) == 0
    err = capsys.readouterr().err
    assert "the round also learned from 2 unreviewed frames" in err and "of 5 asked" in err
