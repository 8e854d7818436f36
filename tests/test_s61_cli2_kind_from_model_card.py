"""A rods (or chains) model given by --model or --from, without --kind, was refused as 'this model finds rods, not
spheres; give --kind rods', though its card says what it finds: without --kind the card's kind is taken, unsaid.
A --kind given and another model's kind are refused as before."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.kinds import rods
from napari_particle_detect.models.registry import saved_card
from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

SHIPPED = Path(__file__).resolve().parents[1] / "napari_particle_detect" / "weights"


def _exported_rods_model(folder: Path) -> Path:
    """The shipped rods model as a round exported under a name of its own (its weights and card)."""
    model = folder / "exported_rods_round.pt"
    shutil.copy(SHIPPED / "rods.pt", model)
    shutil.copy(SHIPPED / "rods.json", model.with_suffix(".json"))
    return model


def _rods_image(folder: Path) -> Path:
    sample = synthesize_rods(benchmark_rod_config("fluorescent", 0.15, shape=(64, 64)), seed=5)
    tifffile.imwrite(folder / "rods.tif", sample.image)
    return folder / "rods.tif"


def test_detect_with_a_rods_model_and_no_kind_finds_rods(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    model, image = _exported_rods_model(tmp_path), _rods_image(tmp_path)

    code = main(["-q", "detect", str(image), "--model", str(model), "-o", str(tmp_path / "out.csv"),
                 "--device", "cpu", "--runtime", "torch"])

    err = capsys.readouterr().err
    assert code == 0, err
    assert err == ""  # the kind taken from the card is said nowhere
    assert list(pd.read_csv(tmp_path / "out.csv").columns) == rods.COLUMNS


def test_a_kind_given_against_the_models_is_refused_as_before(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    model, image = _exported_rods_model(tmp_path), _rods_image(tmp_path)

    code = main(["-q", "detect", str(image), "--model", str(model), "--kind", "spheres", "-o",
                 str(tmp_path / "out.csv"), "--device", "cpu"])

    assert code == 2
    assert "this model finds rods, not spheres" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()


def test_train_from_a_rods_model_and_no_kind_trains_a_rods_round(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture) -> None:
    model = _exported_rods_model(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    sample = synthesize_rods(benchmark_rod_config("fluorescent", 0.15, shape=(96, 96)), seed=7)
    tifffile.imwrite(data / "rods.tif", sample.image)
    sample.table.to_csv(data / "rods.csv", index=False)

    code = main(["-q", "train", "--from", str(model), str(data), "-o", str(tmp_path / "round.pt"),
                 "--steps-per-epoch", "1", "--batch-size", "1", "--device", "cpu"])

    assert code == 0, capsys.readouterr().err
    assert saved_card(tmp_path / "round.pt").kind == "rods"
