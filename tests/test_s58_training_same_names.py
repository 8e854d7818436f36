"""Two annotated files of one name in two folders (a/image_000.tif, b/image_000.tif): what training and rounds say
of one names its folder too, or the user cannot tell which file was refused; and a resume over thousands of
frames is refused in a moment."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.finetune import FINE_TUNE, fine_tune
from napari_particle_detect.learning.kinds_training import KindTrainConfig, load_kind_examples, train_kind
from napari_particle_detect.learning.training import check_same_data, data_record, load_examples

from helpers import tiny_model_file


def run_cli(capsys, *args) -> tuple[int, str]:
    code = main(["-q", *map(str, args)])
    return code, capsys.readouterr().err


def synthesized(capsys, folder: Path, *args: str, seed: int) -> Path:
    code, err = run_cli(capsys, "synth", folder, "--n", "1", "--shape", "96", "96", "--seed", seed, *args)
    assert code == 0, err
    return folder


def said(folder: Path) -> str:
    return f"{folder / 'image_000.tif'}[0]"


def test_a_resume_over_thousands_of_frames_is_refused_in_a_moment():
    frames = 8000
    started = data_record([(f"stack.tif[{i}]", f"digest {i}", 1.0) for i in range(frames)], [])
    now = data_record([(f"stack.tif[{i}]", f"digest {i}", 1.0) for i in range(frames - 1)], [])
    began = time.process_time()
    with pytest.raises(ParticleDetectError, match=r"stack\.tif\[7999\] is gone"):
        check_same_data(Path("model.state.pt"), {"data": started}, now)
    # Each frame searched all the others: 8 s here before, a fraction of a second now.
    assert time.process_time() - began < 2.5


def test_a_rounds_validation_twin_is_named_by_both_files_folders(tmp_path, capsys):
    a = synthesized(capsys, tmp_path / "a", seed=1)
    b = synthesized(capsys, tmp_path / "b", seed=2)
    c = tmp_path / "c"
    shutil.copytree(a, c)
    model = tiny_model_file(tmp_path / "model")
    working = 15.0
    with pytest.raises(ParticleDetectError) as refused:
        fine_tune(model, load_examples([a, b], working), FINE_TUNE, "cpu", validation=load_examples([c], working))
    assert str(refused.value).startswith(f"{said(c)}: a validation image that is also trained on "
                                         f"(the pixels of {said(a)})"), refused.value


def test_a_kinds_rounds_refusal_names_the_file_not_a_number_nobody_gave(tmp_path, capsys):
    a = synthesized(capsys, tmp_path / "a", "--kind", "chains", seed=1)
    b = synthesized(capsys, tmp_path / "b", "--kind", "chains", "--shape", "128", "128", seed=2)
    code, err = run_cli(capsys, "train", "--kind", "chains", "--from", "chains", a, b, "-o", tmp_path / "round",
                        "--steps-per-epoch", "1", "--diameter", "110")
    assert code != 0
    assert f"error: {said(a)}: diameter 110 px is larger than the image" in err, err


def test_kind_trainings_refusals_name_the_folders_of_files_of_one_name(tmp_path, capsys):
    a = synthesized(capsys, tmp_path / "a", "--kind", "rods", seed=1)
    b = synthesized(capsys, tmp_path / "b", "--kind", "rods", seed=2)
    c = tmp_path / "c"
    shutil.copytree(b, c)
    config = KindTrainConfig(kind="rods", epochs=1, steps_per_epoch=1, batch_size=1, threads=1)
    with pytest.raises(ParticleDetectError) as refused:
        train_kind(config, tmp_path / "rods", examples=load_kind_examples([a, b], "rods"),
                   validation_examples=load_kind_examples([c], "rods"))
    assert str(refused.value).startswith(f"{said(c)}: a validation image that is also trained on "
                                         f"(the pixels of {said(b)})"), refused.value


def test_a_kind_runs_resume_refusal_names_the_changed_files_folder(tmp_path, capsys):
    a = synthesized(capsys, tmp_path / "a", "--kind", "rods", seed=1)
    b = synthesized(capsys, tmp_path / "b", "--kind", "rods", seed=2)
    common = ["train", "--kind", "rods", a, b, "-o", tmp_path / "rods", "--epochs", "2", "--steps-per-epoch", "1",
              "--batch-size", "1", "--crop", "64"]
    code, err = run_cli(capsys, *common, "--minutes", "0.0001")  # stops at its first step: a run to resume
    assert code == 0 and (tmp_path / "rods.state.pt").exists(), err
    table = b / "image_000.csv"
    table.write_text("".join(table.read_text().splitlines(keepends=True)[:-1]))  # a rod left out since

    code, err = run_cli(capsys, *common, "--resume")
    assert code != 0
    assert f"other training data: {said(b)} changed since" in err, err
