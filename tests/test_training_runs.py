"""A user's own training runs: outputs that never replace the shipped models, a local file that shadows one said
aloud, resumes that keep their settings, cards that tell an unfinished run, and models a project refuses."""

import json
import logging
import shutil
from dataclasses import replace

import pytest
import tifffile
import torch

from napari_particle_detect import shipped
from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.kinds_training import KindTrainConfig, train_kind
from napari_particle_detect.learning.training import TrainingCancelled, train
from napari_particle_detect.models import load_model
from napari_particle_detect.models.registry import weights_path
from napari_particle_detect.projects.project import Project
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import TINY

CHAINS = KindTrainConfig(kind="chains", epochs=2, steps_per_epoch=1, batch_size=2, crop=48, validation_images=1,
                         validation_size=48, threads=1)


@pytest.fixture(scope="module")
def parent(tmp_path_factory):
    """A sphere model with a training record of its own (the command that made it)."""
    torch.set_num_threads(1)
    return train(TINY, out=tmp_path_factory.mktemp("parent") / "parent",
                 extra_card={"command": "particle-detect train -o parent"}).path


@pytest.fixture
def install_weights(tmp_path, monkeypatch):
    """The install's shipped-weights folder moved to a copy under tmp_path, so a refusal that fails writes there."""
    folder = tmp_path / "weights"
    folder.mkdir()
    for name in ("unet.pt", "unet.json"):
        shutil.copy(shipped.WEIGHTS_DIR / name, folder / name)
    monkeypatch.setattr(shipped, "WEIGHTS_DIR", folder)
    return folder


def run_cli(capsys, *args):
    code = main(["-q", *map(str, args)])
    return code, capsys.readouterr().err


def cancel_after_epoch(epoch: int):
    """(progress, cancel) callbacks that stop a run within the step after ``epoch`` ended."""
    done = {"stop": False}

    def progress(record: dict) -> None:
        done["stop"] = done["stop"] or (record.get("event", "epoch") == "epoch" and record["epoch"] == epoch)

    return progress, lambda: done["stop"]


TINY_OPTIONS = ["--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "2", "--crop", "32", "--threads", "1",
                "--device", "cpu"]


# ---- 1: the shipped models stay as shipped, and which model made a table is told -----------------------------
def test_training_into_the_shipped_weights_folder_is_refused_even_with_overwrite(tmp_path, install_weights, capsys):
    shipped_bytes = (install_weights / "unet.pt").read_bytes()
    for output, extra in ((install_weights / "unet.pt", ["--overwrite"]), (install_weights / "mine" / "new", []),
                          (install_weights / "rk", ["--kind", "rods"])):
        code, err = run_cli(capsys, "train", "-o", output, *TINY_OPTIONS, *extra)
        assert code == 2 and err.count("\n") == 1, err
        assert f"{output}: inside the shipped models' folder {install_weights}" in err
    recipe = install_weights / "mine.toml"
    recipe.write_text('name = "mine"\n[[phase]]\nname = "only"\nepochs = 1\n')
    code, err = run_cli(capsys, "recipe", recipe)
    assert code == 2 and f"{install_weights / 'runs' / 'mine'}: inside the shipped models' folder" in err
    with pytest.raises(ParticleDetectError, match="inside the shipped models' folder"):
        train(TINY, out=install_weights / "library")
    assert (install_weights / "unet.pt").read_bytes() == shipped_bytes
    assert sorted(p.name for p in install_weights.iterdir()) == ["mine.toml", "unet.json", "unet.pt"]


def test_a_local_file_named_as_a_shipped_model_is_used_with_a_warning(tmp_path, parent, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    for suffix in (".pt", ".json"):
        shutil.copy(parent.with_suffix(suffix), tmp_path / f"unet{suffix}")
    with caplog.at_level(logging.WARNING):
        assert weights_path("unet") == weights_path("unet.pt") == tmp_path.joinpath("unet.pt").relative_to(tmp_path)
    said = [r.getMessage() for r in caplog.records if "instead of the shipped model" in r.getMessage()]
    assert said == [f"{tmp_path / 'unet.pt'}: a file in this folder, used instead of the shipped model unet of the "
                    f"same name; rename it, or give {shipped.WEIGHTS_DIR / 'unet.pt'} for the shipped one"]  # once


def test_detect_records_the_model_file_it_used_beside_the_name(tmp_path, parent, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for suffix in (".pt", ".json"):
        shutil.copy(parent.with_suffix(suffix), tmp_path / f"unet{suffix}")
    tifffile.imwrite(tmp_path / "image.tif", synthesize(benchmark_config("fluorescent", 0.3, (64, 64)), seed=1).image)
    code, err = run_cli(capsys, "detect", "image.tif", "-o", "out.csv", "--model", "unet", "--runtime", "torch",
                        "--device", "cpu", "--diameter", "10")
    assert code == 0, err
    meta = json.loads((tmp_path / "out.json").read_text())
    assert meta["model"] == "unet.pt" and meta["model_file"] == str(tmp_path / "unet.pt")


# ---- 2: a resume keeps the settings its epochs trained with ---------------------------------------------------
def test_a_resume_with_other_settings_is_refused_naming_the_first_difference(tmp_path):
    config = replace(TINY, epochs=3, batch_size=2, crop=32)
    progress, cancel = cancel_after_epoch(1)
    with pytest.raises(TrainingCancelled):
        train(config, out=tmp_path / "m", progress=progress, cancel=cancel)
    state = (tmp_path / "m.state.pt").read_bytes()
    changed = replace(config, batch_size=4, crop=64, learning_rate=0.01, seed=5)
    with pytest.raises(ParticleDetectError) as refused:
        train(changed, out=tmp_path / "m", resume=True)
    assert str(refused.value) == (f"{tmp_path / 'm.state.pt'}: the interrupted run trained with other settings: "
                                  "batch_size 2 -> 4 (--batch-size); resume it with the settings it started with, or "
                                  "start again (--overwrite)")
    assert (tmp_path / "m.state.pt").read_bytes() == state  # refused before any work
    with pytest.raises(ParticleDetectError, match=r"learning_rate 0.002 -> 0.01 \(--lr\)"):
        train(replace(config, learning_rate=0.01), out=tmp_path / "m", resume=True)
    # A state written before settings were kept resumes as before.
    shutil.copy(tmp_path / "m.state.pt", tmp_path / "old.state.pt")
    shutil.copy(tmp_path / "m.pt", tmp_path / "old.pt")
    shutil.copy(tmp_path / "m.json", tmp_path / "old.json")
    old = torch.load(tmp_path / "old.state.pt", weights_only=True)
    del old["settings"]
    torch.save(old, tmp_path / "old.state.pt")
    assert [h["epoch"] for h in train(changed, out=tmp_path / "old", resume=True).history] == [1, 2, 3]
    # How long and where it trains may change: more epochs, a time limit, threads.
    resumed = train(replace(config, epochs=4, threads=2, time_limit_s=600.0), out=tmp_path / "m", resume=True)
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3, 4]


def test_a_kind_run_resumed_with_other_settings_is_refused(tmp_path):
    progress, cancel = cancel_after_epoch(1)
    with pytest.raises(TrainingCancelled):
        train_kind(CHAINS, tmp_path / "c.pt", progress=progress, cancel=cancel)
    with pytest.raises(ParticleDetectError, match=r"c\.state\.pt: the interrupted run trained with other settings: "
                                                  r"crop 48 -> 64 \(--crop\)"):
        train_kind(replace(CHAINS, crop=64), tmp_path / "c.pt", resume=True)


# ---- 3 and 6: the card tells this run's training, and whether it finished -------------------------------------
def test_a_model_saved_mid_run_carries_this_runs_record_marked_unfinished(tmp_path, parent):
    config = replace(TINY, epochs=3, keep="last")  # every epoch saved
    progress, cancel = cancel_after_epoch(1)
    mine = {"command": "particle-detect train --from parent -o fj.pt"}
    with pytest.raises(TrainingCancelled):
        train(config, init=parent, out=tmp_path / "fj", progress=progress, cancel=cancel, extra_card=mine)
    record = load_model(tmp_path / "fj.pt").card.training
    assert record["command"] == mine["command"] and record["config"]["epochs"] == 3
    assert record["finished"] is False and (record["epochs_done"], record["epochs"]) == (1, 3)
    assert [h["epoch"] for h in record["history"]] == [0, 1] and record["best_epoch"] == 1
    assert record["validation_f1"] == record["history"][1]["val_f1"]
    assert record["lineage"][-1]["command"] == "particle-detect train -o parent"  # the parent's, as its ancestor
    finished = train(config, init=parent, out=tmp_path / "fj", resume=True, extra_card=mine).model.card.training
    assert finished["finished"] is True and (finished["epochs_done"], finished["epochs"]) == (3, 3)
    assert [h["epoch"] for h in finished["history"]] == [0, 1, 2, 3]
    assert "stopped_at_time_limit" not in finished


def test_a_time_limit_stop_is_said_and_recorded_as_unfinished(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        result = train(replace(TINY, epochs=2, time_limit_s=1e-6), out=tmp_path / "m")
    assert f"{tmp_path / 'm.pt'}: stopped at the time limit after 1 of 6 steps, before its learning rate schedule ended; --resume continues" in caplog.messages
    for record in (load_model(tmp_path / "m.pt").card.training, result.model.card.training):
        assert record["finished"] is False and record["stopped_at_time_limit"] == {"steps_done": 1, "steps": 6}
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        train_kind(replace(CHAINS, time_limit_s=1e-6), tmp_path / "c.pt")
    # A kind run's rate is constant unless final_lr_fraction asks it to decay: no schedule was cut short.
    assert f"{tmp_path / 'c.pt'}: stopped at the time limit after 1 of 2 steps; --resume continues" in caplog.messages
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        train_kind(replace(CHAINS, time_limit_s=1e-6, final_lr_fraction=0.1), tmp_path / "d.pt")
    assert f"{tmp_path / 'd.pt'}: stopped at the time limit after 1 of 2 steps, before its learning rate schedule ended; --resume continues" in caplog.messages
    record = load_model(tmp_path / "c.pt").card.training
    assert record["finished"] is False and record["stopped_at_time_limit"] == {"steps_done": 1, "steps": 2}


def test_a_kind_card_keeps_the_command_the_lineage_and_the_whole_history(tmp_path, capsys):
    fresh = tmp_path / "fresh.pt"
    code, err = run_cli(capsys, "train", "--kind", "chains", "-o", fresh, "--epochs", "1", "--steps-per-epoch", "1",
                        "--batch-size", "2", "--crop", "48", "--threads", "1", "--device", "cpu")
    assert code == 0, err
    parent_record = load_model(fresh).card.training
    assert parent_record["command"].startswith("particle-detect ") and parent_record["finished"] is True
    progress, cancel = cancel_after_epoch(1)
    mine = {"command": "particle-detect train --kind chains --from fresh.pt -o child.pt"}
    with pytest.raises(TrainingCancelled):
        train_kind(CHAINS, tmp_path / "child.pt", init=fresh, progress=progress, cancel=cancel, extra_card=mine)
    record = load_model(tmp_path / "child.pt").card.training
    assert record["finished"] is False and record["command"] == mine["command"]
    assert record["lineage"][-1]["command"] == parent_record["command"]
    model = train_kind(CHAINS, tmp_path / "child.pt", init=fresh, resume=True, extra_card=mine)
    record = load_model(tmp_path / "child.pt").card.training
    for kept in (record, model.card.training):
        assert kept["finished"] is True and [h["epoch"] for h in kept["history"]] == [0, 1, 2]
    assert record["lineage"][-1]["command"] == parent_record["command"]
    assert record["history"][record["best_epoch"]]["score"] == record["validation_score"]


# ---- 5: resuming a finished run -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["spheres", "chains"])
def test_resuming_a_finished_run_says_so_and_changes_nothing(tmp_path, capsys, kind):
    out = tmp_path / "done.pt"
    options = ["-o", out, *TINY_OPTIONS] + (["--kind", kind, "--crop", "48"] if kind != "spheres" else [])
    code, err = run_cli(capsys, "train", *options)
    assert code == 0, err
    files = {path: path.read_bytes() for path in (out, out.with_suffix(".json"), out.with_suffix(".state.pt"))}
    code = main(["train", *map(str, options), "--resume"])
    err = capsys.readouterr().err
    assert code == 0 and f"{out}: already finished (1 of 1 epochs): nothing to resume" in err, err
    assert "saved" not in err and "best validation" not in err and "epoch 1" not in err
    assert all(path.read_bytes() == before for path, before in files.items())


# ---- 4: a project's Add… takes only a model its rounds can use ------------------------------------------------
def test_a_sphere_project_refuses_a_rods_or_3d_model_before_copying_it(tmp_path, parent):
    project = Project.open(tmp_path / "img.tif", n_frames=1, frame_shape=(64, 64))
    project.ensure_initial_round(parent)
    for name, problem in (("rods", "this model finds rods, not spheres"), ("unet3d", "a 3D model")):
        with pytest.raises(ParticleDetectError) as refused:
            project.import_model(name)
        assert str(refused.value).startswith(f"{shipped.WEIGHTS_DIR / name}.pt: {problem}")
    assert [r.number for r in project.rounds] == [1] and project.current_round.number == 1
    assert sorted(p.name for p in (project.folder / "rounds").iterdir()) == ["round-001"]
    assert project.import_model(parent).number == 2  # a 2D sphere model is added as before
    volumes = Project.open(tmp_path / "vol.tif", n_frames=1, frame_shape=(8, 64, 64))
    with pytest.raises(ParticleDetectError, match=r"parent\.pt: a 2D model"):
        volumes.import_model(parent)
    assert volumes.import_model("unet3d").number == 1


def test_a_round_exported_into_the_shipped_weights_folder_is_refused(tmp_path, install_weights, capsys):
    project = Project.open(tmp_path / "img.tif", n_frames=1, frame_shape=(64, 64))
    project.ensure_initial_round(install_weights / "unet.pt")
    shipped_bytes = (install_weights / "unet.pt").read_bytes()
    for output, extra in ((install_weights / "unet.pt", ["--overwrite"]), (install_weights / "round.pt", [])):
        code, err = run_cli(capsys, "rounds", project.folder, "--export", "1", "-o", output, *extra)
        assert code == 2 and f"{output}: inside the shipped models' folder {install_weights}" in err, err
    assert (install_weights / "unet.pt").read_bytes() == shipped_bytes
    assert sorted(p.name for p in install_weights.iterdir()) == ["unet.json", "unet.pt"]
