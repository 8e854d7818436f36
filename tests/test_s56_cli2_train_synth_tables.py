"""What the command line says and writes where a user meets its edges: ``train -o NAME/`` names a folder, as
``detect -o NAME/`` reads it; files rescaled by different factors are said with their range; a Ctrl-C'd round says
that nothing was saved; synth says why its images hold no particles; a table that cannot be read is left to its
reader; a rods table saved with its pandas index opens without it."""

import logging
import os
import signal

import numpy as np
import pandas as pd
import pytest
import tifffile

from helpers import tiny_model_file
from napari_particle_detect.cli import bars
from napari_particle_detect.cli.kinds import refuse_frames_against_none
from napari_particle_detect.cli.main import _log_rescaling, main
from napari_particle_detect.kinds.registry import read_kind_table
from napari_particle_detect.learning.training import load_examples
from napari_particle_detect.synthetic.spheres import SynthConfig, benchmark_config, synthesize


def _pair(folder, name: str, config: SynthConfig, seed: int) -> None:
    folder.mkdir(exist_ok=True)
    sample = synthesize(config, seed=seed)
    tifffile.imwrite(folder / f"{name}.tif", sample.image)
    pd.DataFrame({"y": sample.centres[:, 0], "x": sample.centres[:, 1]}).to_csv(folder / f"{name}.csv", index=False)


def test_train_output_with_a_trailing_separator_is_refused_as_a_folder(tmp_path, capsys):
    # Before: argparse's Path dropped the '/', and the model went to sub.pt beside the folder detect reads.
    code = main(["-q", "train", "-o", f"{tmp_path / 'sub'}{os.sep}", "--epochs", "1", "--steps-per-epoch", "1"])
    assert code == 2
    assert f"{tmp_path / 'sub'}{os.sep}: is a folder; name the model inside it, e.g. {tmp_path / 'sub' / 'model'}" \
        in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_files_rescaled_by_different_factors_are_said_with_their_range(tmp_path, caplog):
    data = tmp_path / "data"
    _pair(data, "small", SynthConfig(shape=(96, 96), radius_range=(3.0, 4.0)), 1)
    _pair(data, "large", SynthConfig(shape=(96, 96), radius_range=(9.0, 12.0)), 2)
    examples = load_examples([data], 15.0)
    factors = {ex.name: ex.scale for ex in examples}
    assert factors["small.tif[0]"] > 1.5 > 1.0 > factors["large.tif[0]"]
    with caplog.at_level(logging.INFO):
        _log_rescaling(examples, 15.0)
    # Before: only the first file's factor, as if it were every file's.
    lines = [r.getMessage() for r in caplog.records if "rescaled" in r.getMessage()]
    assert lines == [f"all 2 files rescaled to the model's working particle size 15.0 px by "
                     f"{factors['large.tif[0]']:.3f} (large.tif) to {factors['small.tif[0]']:.3f} (small.tif), "
                     "each file by its own particle size"]


def test_a_round_stopped_by_ctrl_c_says_nothing_was_saved_and_runs_again(tmp_path, capsys, monkeypatch):
    tiny = tiny_model_file(tmp_path)
    for i in range(2):
        _pair(tmp_path / "data", f"im{i}", benchmark_config("fluorescent", 0.4, (64, 64)), 20 + i)
    out = tmp_path / "tuned"
    command = ["-q", "train", str(tmp_path / "data"), "--from", str(tiny), "-o", str(out), "--steps-per-epoch", "2",
               "--batch-size", "2", "--crop", "32", "--threads", "1", "--diameter", "12", "--device", "cpu"]
    event = bars.RoundBar.event
    monkeypatch.setattr(bars.RoundBar, "event", lambda bar, e: os.kill(os.getpid(), signal.SIGINT))  # Ctrl-C
    assert main(command) == 128 + signal.SIGINT
    # Before: "particle-detect: interrupted" alone.
    assert f"particle-detect: interrupted; nothing saved to {out}.pt; run the same command again" in \
        capsys.readouterr().err
    assert not out.with_suffix(".pt").exists() and not out.with_suffix(".json").exists()
    monkeypatch.setattr(bars.RoundBar, "event", event)
    assert main(command) == 0 and out.with_suffix(".pt").exists()


@pytest.mark.parametrize("options, said", [
    (["--radius", "100", "200", "--shape", "64", "64"],
     "2 of 2 images hold no particles: particles of up to 400 px are larger than the 64 x 64 px images"),
    (["--kind", "rods", "--shape", "16", "16"], "2 of 2 images hold no rods: rods of up to 280 px are larger than "
                                                "the 16 x 16 px images"),
])
def test_synth_says_why_its_images_hold_no_particles(tmp_path, capsys, options, said):
    assert main(["-q", "synth", str(tmp_path / "out"), "--n", "2", *options]) == 0
    err = capsys.readouterr().err
    # Before: only "wrote 2 image(s) with 0 centres", and nothing at all with -q.
    assert said in err and "give a larger --shape or a smaller" in err and len(err.strip().splitlines()) == 1
    assert main(["-q", "synth", str(tmp_path / "fine"), "--n", "1", "--shape", "64", "64"]) == 0
    assert capsys.readouterr().err == ""


def test_frames_against_none_leaves_an_unreadable_table_to_its_reader(tmp_path):
    predicted = tmp_path / "predicted.csv"
    table = pd.DataFrame({"frame": [0, 1], "y": [1.0, 2.0], "x": [1.0, 2.0]})
    table.to_csv(predicted, index=False)
    truth = tmp_path / "truth.csv"
    truth.write_bytes("y,x,\u00b5m\n1,1,1\n".encode("latin-1"))  # no UTF-8: its reader says so
    # Before: pandas' UnicodeDecodeError, a traceback.
    refuse_frames_against_none(predicted, table, truth, table.drop(columns="frame"), "centres")


def test_a_rods_table_saved_with_its_index_opens_without_it(tmp_path):
    from napari_particle_detect._napari.reader import centres_layers_data

    path = tmp_path / "rods.csv"
    pd.DataFrame({"y": [10.0, 30.0], "x": [10.0, 40.0], "angle": [0.0, 45.0], "length": [12.0, 15.0],
                  "width": [4.0, 4.0]}).to_csv(path)  # pandas' default: its index as a first, unnamed column
    read = read_kind_table(path, "rods")
    # Before: 'Unnamed: 0' kept, shown as a feature and saved back by File > Save.
    assert "Unnamed: 0" not in read.columns and np.allclose(read["length"], [12.0, 15.0])
    layers = centres_layers_data(path)
    assert layers and all("Unnamed: 0" not in layer[1].get("features", {}) for layer in layers)
