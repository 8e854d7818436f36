"""A training audit of recipes: a phase's files checked by their contents, the init model's ancestry kept in the
final lineage, a part-trained phase resumed only as it began (said the recipe's way), and an unfinished model
said when it detects."""

import hashlib
import json
import logging
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import TINY
from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.recipes import (final_model_path, load_recipe, phase_fingerprint, phase_files,
                                                      run_recipe)
from napari_particle_detect.learning.training import train

REPOSITORY = Path(__file__).resolve().parents[1]

INIT_RECIPE = """
name = "from-init"
init = "init/a.pt"

[validation]
images = 1
size = 48

[[phase]]
name = "first"
epochs = 1
steps_per_epoch = 1
batch_size = 2
crop = 32
seed = 1
"""

PAUSABLE_RECIPE = """
name = "pausable"
channels = [4, 8]

[validation]
images = 1
size = 48

[[phase]]
name = "start"
epochs = 2
steps_per_epoch = 1
batch_size = 2
crop = 32
learning_rate = 3e-3
seed = 1
"""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


OLDER = {"command": "particle-detect recipe older.toml", "recipe": "older.toml", "validation_f1": 0.5}


def run_from_init(folder: Path) -> tuple[Path, Path]:
    """(recipe, init) after a run of INIT_RECIPE from a tiny init whose own lineage holds OLDER."""
    torch.set_num_threads(1)
    init = train(TINY, out=folder / "init" / "a").path
    card = json.loads(init.with_suffix(".json").read_text())
    card["training"]["lineage"] = [OLDER]
    init.with_suffix(".json").write_text(json.dumps(card))
    recipe = folder / "from-init.toml"
    recipe.write_text(INIT_RECIPE)
    run_recipe(recipe, threads=1)
    return recipe, init


def test_the_final_card_keeps_the_init_model_s_ancestry_and_digest(tmp_path):
    recipe, init = run_from_init(tmp_path)
    training = json.loads(final_model_path(load_recipe(recipe)).with_suffix(".json").read_text())["training"]
    assert training["lineage"][0] == OLDER  # init's ancestry, then init itself, then the recipe's phase
    assert "validation_f1" in training["lineage"][1] and "phase" not in training["lineage"][1]
    assert [step.get("phase") for step in training["lineage"]] == [None, None, "first"]
    assert training["init"] == "init/a.pt" and training["init_sha256"] == sha256(init)
    assert training["lineage"][2]["inputs_sha256"]["init/a.pt"] == sha256(init)


def test_a_finished_phase_whose_init_changed_is_refused(tmp_path, capsys):
    recipe, init = run_from_init(tmp_path)
    init.write_bytes(train(replace(TINY, seed=7), out=tmp_path / "other").path.read_bytes())
    with pytest.raises(ParticleDetectError, match=r"from-init\.toml: phase 'first' trained on init/a\.pt, which "
                                                  r"has changed since; put it back as it was"):
        run_recipe(recipe, threads=1)
    assert main(["recipe", str(recipe), "--threads", "1"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "init/a.pt, which has changed since" in error


def test_a_phase_s_teacher_and_data_files_are_checked_by_their_contents(tmp_path):
    from napari_particle_detect.learning.recipes import check_done_inputs, phase_inputs

    (tmp_path / "data").mkdir()
    for name in ("a.tif", "a.csv", "teacher.pt", "teacher.json"):
        (tmp_path / ("data" if name.startswith("a.") else "") / name).write_bytes(name.encode())
    recipe_file = tmp_path / "r.toml"
    recipe_file.write_text('name = "r"\n[[phase]]\nname = "only"\nteacher = "teacher.pt"\ndata = ["data"]\n')
    recipe = load_recipe(recipe_file)
    record = {"inputs_sha256": phase_inputs(recipe, 0)}
    assert sorted(record["inputs_sha256"]) == ["data/a.csv", "data/a.tif", "teacher.json", "teacher.pt"]
    check_done_inputs(recipe, 0, record)

    (tmp_path / "data" / "a.csv").write_text("y,x\n1,2\n")
    with pytest.raises(ParticleDetectError, match=r"r\.toml: phase 'only' trained on data/a\.csv, which has changed"):
        check_done_inputs(recipe, 0, record)
    (tmp_path / "data" / "a.csv").write_bytes(b"a.csv")
    (tmp_path / "teacher.pt").write_bytes(b"other weights")
    with pytest.raises(ParticleDetectError, match=r"trained on teacher\.pt, which has changed since"):
        check_done_inputs(recipe, 0, record)
    (tmp_path / "teacher.pt").write_bytes(b"teacher.pt")
    for name in ("b.tif", "b.csv"):
        (tmp_path / "data" / name).write_bytes(name.encode())
    with pytest.raises(ParticleDetectError, match=r"trained on data/b\.(tif|csv), which was not there since"):
        check_done_inputs(recipe, 0, record)
    check_done_inputs(recipe, 0, {})  # a record from before digests were kept says nothing


def test_the_committed_runs_are_still_accepted():
    from napari_particle_detect.learning.recipes import check_done_inputs

    checked = 0
    for path in sorted((REPOSITORY / "recipes").glob("*.toml")):
        recipe = load_recipe(path)
        for index in range(len(recipe.phases)):
            done = phase_files(recipe, index)[1]
            if done.exists():
                record = json.loads(done.read_text())
                assert record["fingerprint"] == phase_fingerprint(recipe, index), done
                check_done_inputs(recipe, index, record)
                checked += 1
    assert checked


def paused_run(folder: Path) -> Path:
    """PAUSABLE_RECIPE cancelled after the first of its phase's two epochs."""
    torch.set_num_threads(1)
    recipe = folder / "pausable.toml"
    recipe.write_text(PAUSABLE_RECIPE)
    epochs = []
    paused = run_recipe(recipe, threads=1, cancel=lambda: len(epochs) >= 1,
                        progress=lambda r: epochs.append(r) if r.get("event") == "epoch" else None)
    assert paused.paused and paused.current == "start"
    return recipe


STATE = "runs/pausable/phase-1-start.state.pt"


def test_a_part_trained_phase_with_another_setting_is_refused_the_recipe_s_way(tmp_path):
    recipe = paused_run(tmp_path)
    recipe.write_text(PAUSABLE_RECIPE.replace("learning_rate = 3e-3", "learning_rate = 1e-3"))
    with pytest.raises(ParticleDetectError, match=rf"pausable\.toml: phase 'start' is part-trained; restore "
                                                  rf"learning_rate = 0\.003, or delete {STATE} to start the phase again$"):
        run_recipe(recipe, threads=1)


def test_a_part_trained_phase_is_not_extended(tmp_path):
    """Its schedule was set for its epochs: extended, no run of the recipe as it then stands gives its weights."""
    recipe = paused_run(tmp_path)
    recipe.write_text(PAUSABLE_RECIPE.replace("epochs = 2", "epochs = 3"))
    with pytest.raises(ParticleDetectError, match=rf"pausable\.toml: phase 'start' is part-trained; restore epochs = 2 "
                                                  rf"\(add a phase to train longer\), or delete {STATE} to start"):
        run_recipe(recipe, threads=1)

    recipe.write_text(PAUSABLE_RECIPE)
    done = run_recipe(recipe, threads=1)
    assert done.model is not None
    record = json.loads(phase_files(load_recipe(recipe), 0)[1].read_text())
    assert record["resumed"] is True and record["epochs"] == 2
    assert not list(tmp_path.rglob("*.started.json"))  # like the resume state, gone once the phase is done


def test_detect_says_once_that_the_model_s_training_did_not_finish(tmp_path, caplog, capsys):
    import tifffile

    from napari_particle_detect import detect

    torch.set_num_threads(1)
    model = train(TINY, out=tmp_path / "cut").path
    card = json.loads(model.with_suffix(".json").read_text())
    card["training"].update(finished=False, epochs_done=1, epochs=4)
    model.with_suffix(".json").write_text(json.dumps(card))
    image = np.random.default_rng(0).random((48, 48), dtype=np.float32)

    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            detect(image, model=str(model), device="cpu", diameter=8)
    said = [r.getMessage() for r in caplog.records if "training stopped" in r.getMessage()]
    assert said == [f"{model}: its training stopped after 1 of 4 epochs (its card says finished: false); it "
                    "detects as trained so far: resume the training to finish it"]

    shutil.copy(model, tmp_path / "other.pt")
    shutil.copy(model.with_suffix(".json"), tmp_path / "other.json")
    tifffile.imwrite(tmp_path / "image.tif", image)
    assert main(["detect", str(tmp_path / "image.tif"), "-o", str(tmp_path / "image.csv"), "--model",
                 str(tmp_path / "other.pt"), "--diameter", "8", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert "other.pt: its training stopped after 1 of 4 epochs" in err
