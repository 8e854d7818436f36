"""``train --from MODEL DATA --unlabelled MOVIE`` where MOVIE is DATA's annotated movie itself (the README allows it:
its annotated frames are known by their pixels and skipped) with no --unlabelled-frames asks for the frames a round
can learn from, not every frame MOVIE holds: it asked 4 of a 4-frame movie with 2 annotated, then warned "of 4
asked: no other frame is unreviewed", a shortfall of a number the user never gave."""

from __future__ import annotations

import numpy as np
import pandas as pd
import tifffile
import torch

from napari_particle_detect.cli.main import main
from napari_particle_detect.models import load_model
from napari_particle_detect.models.registry import default_model_path
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize


def _round(tmp_path, annotated: tuple[int, ...]) -> list[str]:
    """A 4-frame movie with ``annotated`` frames in its table, and a short round on it learning from it too."""
    torch.set_num_threads(1)
    samples = [synthesize(benchmark_config("fluorescent", 0.3, (64, 64)), seed=s) for s in range(4)]
    data = tmp_path / "data"
    data.mkdir()
    tifffile.imwrite(data / "movie.tif", np.stack([s.image for s in samples]))
    pd.concat([pd.DataFrame({"frame": f, "y": samples[f].centres[:, 0], "x": samples[f].centres[:, 1]})
               for f in annotated]).to_csv(data / "movie.csv", index=False)
    return ["-q", "train", str(data), "--from", str(default_model_path()), "--unlabelled", str(data / "movie.tif"),
            "--steps-per-epoch", "2", "--batch-size", "2", "--crop", "32", "--threads", "1", "--diameter", "12",
            "--device", "cpu", "-o", str(tmp_path / "tuned.pt")]


def test_the_default_asks_only_for_the_frames_the_annotated_movie_leaves_unreviewed(tmp_path, capsys):
    assert main(_round(tmp_path, (0, 1))) == 0
    assert "asked" not in capsys.readouterr().err
    record = load_model(tmp_path / "tuned.pt").card.training["fine_tuned"]
    assert record["unlabelled_asked"] == 2
    assert [name.rsplit("[", 1)[1] for name in record["pseudo_labelled"]] == ["2]", "3]"]


def test_a_movie_annotated_whole_still_says_it_found_no_unreviewed_frame(tmp_path, capsys):
    assert main(_round(tmp_path, (0, 1, 2, 3))[1:]) == 0  # without -q: the round's last lines
    assert "found no unreviewed frame left to learn from (4 asked)" in capsys.readouterr().err
