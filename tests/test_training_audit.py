"""The training audit: a time limit only stops a run (the learning rate follows the steps), a cancel or a Ctrl-C
keeps the steps of the epoch under way, a lineage says how far each ancestor got, a project's rounds are never
written over by train -o, and the resume messages say what happens."""

import _thread
import re
import shutil
import signal
from dataclasses import replace

import pytest
import torch

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.kinds_training import KindTrainConfig, train_kind
from napari_particle_detect.learning.training import TrainingCancelled, train
from napari_particle_detect.models import load_model

from helpers import TINY, ctrl_c_once_written, stop_at_check
from test_time_limit_resume import SPHERES, one_thread, straight  # noqa: F401 - the same runs, as fixtures

# A decaying learning rate, which the time limit used to drive.
CHAINS = KindTrainConfig(kind="chains", epochs=2, steps_per_epoch=3, batch_size=2, crop=48, validation_images=1,
                         validation_size=48, threads=1, final_lr_fraction=0.1)
NEVER_REACHED = 3600.0
CLI_RUN = ["--steps-per-epoch", "2", "--batch-size", "2", "--crop", "32", "--threads", "1", "--device", "cpu"]


@pytest.fixture(scope="module")
def straight_chains(tmp_path_factory):
    torch.set_num_threads(1)
    return train_kind(CHAINS, tmp_path_factory.mktemp("straight_chains") / "c.pt").path


def state(out) -> dict:
    return torch.load(out.with_suffix(".state.pt"), weights_only=True)


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def assert_ends_as(out, straight_out) -> None:
    """The same last weights and saved model as the uninterrupted run's."""
    assert_same(state(out)["network"], state(straight_out)["network"])
    assert_same(load_model(out, "cpu").network.state_dict(), load_model(straight_out, "cpu").network.state_dict())


# ---- 1: the learning rate follows the steps, never the clock ----------------------------------------------------
def test_a_sphere_run_ends_as_one_uninterrupted_run_with_or_without_its_time_limit(tmp_path, straight):
    unreached = tmp_path / "unreached.pt"
    train(replace(SPHERES, time_limit_s=NEVER_REACHED), out=unreached)
    assert_ends_as(unreached, straight.path)
    paused = tmp_path / "paused.pt"
    train(replace(SPHERES, time_limit_s=1e-6), out=paused)  # stops after its first step
    train(SPHERES, out=paused, resume=True)
    assert_ends_as(paused, straight.path)


def test_a_kind_run_with_a_decaying_rate_ends_as_one_uninterrupted_run_with_or_without_its_time_limit(
        tmp_path, straight_chains):
    unreached = tmp_path / "unreached.pt"
    train_kind(replace(CHAINS, time_limit_s=NEVER_REACHED), unreached)
    assert_ends_as(unreached, straight_chains)
    paused = tmp_path / "paused.pt"
    train_kind(replace(CHAINS, time_limit_s=1e-6), paused)  # stops after its first step
    train_kind(CHAINS, paused, resume=True)
    assert_ends_as(paused, straight_chains)


# ---- 2: a cancel or a Ctrl-C keeps the epoch's steps -----------------------------------------------------------
def test_a_cancel_mid_epoch_keeps_its_steps_and_the_resume_ends_as_one_uninterrupted_run(tmp_path, straight):
    out = tmp_path / "m.pt"
    with pytest.raises(TrainingCancelled) as cancelled:
        train(SPHERES, out=out, cancel=stop_at_check(6))  # epoch 1's 3 steps, then 2 of epoch 2
    assert str(cancelled.value) == ("training stopped in epoch 2; the state after step 2 of epoch 2 is kept: resume to "
                                    "go on")
    after_epoch_1 = state(out)["history"][-1]
    assert (state(out)["epoch"], state(out)["step"], after_epoch_1["epoch"]) == (1, 2, 1)
    assert load_model(out, "cpu").card.training["epochs_done"] == 1  # the model saved stays epoch 1's
    train(SPHERES, out=out, resume=True)
    assert_ends_as(out, straight.path)


def test_a_ctrl_c_mid_epoch_keeps_its_steps_and_the_resume_ends_as_one_uninterrupted_run(tmp_path, straight):
    out = tmp_path / "m.pt"

    def press_ctrl_c_in_epoch_2(event: dict) -> None:
        if event["event"] == "step" and event["epoch"] == 2:
            # Python's own delivery of a SIGINT to the main thread's handler: an OS signal sent to a pytest-xdist
            # worker process killed the worker once in CI.
            _thread.interrupt_main(signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        train(SPHERES, out=out, progress=press_ctrl_c_in_epoch_2)
    assert (state(out)["epoch"], state(out)["step"]) == (1, 1)  # after the step under way
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    train(SPHERES, out=out, resume=True)
    assert_ends_as(out, straight.path)


def test_a_kind_run_cancelled_mid_epoch_keeps_its_steps_and_ends_as_one_uninterrupted_run(tmp_path, straight_chains):
    out = tmp_path / "c.pt"
    with pytest.raises(TrainingCancelled, match="the state after step 2 of epoch 1 is kept"):
        train_kind(CHAINS, out, cancel=stop_at_check(3))
    train_kind(CHAINS, out, resume=True)
    assert_ends_as(out, straight_chains)


def test_the_train_commands_ctrl_c_says_where_resume_goes_on(tmp_path, capsys):
    out = tmp_path / "m.pt"
    with ctrl_c_once_written(out.with_suffix(".state.pt")):
        code = main(["train", "-o", str(out), "--epochs", "3", "--steps-per-epoch", "20", "--batch-size", "2",
                     "--crop", "32", "--threads", "1", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 130
    assert re.search(r"^particle-detect: interrupted; --resume continues at (step \d+ of )?epoch [23]$", err, re.M), err


# ---- 3: a lineage says how far each ancestor got -----------------------------------------------------------------
def test_a_childs_lineage_says_its_parent_stopped_unfinished(tmp_path):
    parent = train(replace(SPHERES, time_limit_s=1e-6), out=tmp_path / "parent").path  # 1 of 6 steps
    child = train(TINY, init=parent)
    entry = child.model.card.training["lineage"][-1]
    assert (entry["finished"], entry["epochs_done"], entry["epochs"]) == (False, 0, 2)
    assert entry["stopped_at_time_limit"] == {"steps_done": 1, "steps": 6} and entry["best_epoch"] == 1


# ---- 4: train -o never writes into a project ------------------------------------------------------------------
def test_train_refuses_an_output_inside_a_project_folder(tmp_path, capsys):
    round_model = tmp_path / "stack.particle-detect" / "rounds" / "round-003" / "model"
    round_model.parent.mkdir(parents=True)
    (round_model.with_suffix(".pt")).write_bytes(b"round 3's weights")

    assert main(["train", "-o", str(round_model), "--overwrite", "--epochs", "1", *CLI_RUN]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"particle-detect: error: {round_model}: inside the napari project {tmp_path / 'stack.particle-detect'}, "
        "whose rounds the dock keeps; write the model outside it"]
    assert round_model.with_suffix(".pt").read_bytes() == b"round 3's weights"


# ---- 5: what --resume says ------------------------------------------------------------------------------------
def test_resuming_a_finished_run_says_so_without_an_empty_bar(tmp_path, capsys):
    out = tmp_path / "m.pt"
    assert main(["train", "-o", str(out), "--epochs", "1", *CLI_RUN]) == 0
    capsys.readouterr()
    assert main(["train", "-o", str(out), "--epochs", "1", "--resume", *CLI_RUN]) == 0
    assert capsys.readouterr().err.strip().splitlines() == [
        f"{out}: already finished (1 of 1 epochs): nothing to resume"]


def test_resuming_with_fewer_epochs_than_trained_says_what_epochs_resume_it(tmp_path, straight):
    out = tmp_path / "m.pt"
    for suffix in (".pt", ".json", ".state.pt"):
        shutil.copy(straight.path.with_suffix(suffix), out.with_suffix(suffix))
    with pytest.raises(ParticleDetectError) as refused:
        train(replace(SPHERES, epochs=1), out=out, resume=True)
    assert str(refused.value) == (f"{out.with_suffix('.state.pt')}: the run already trained 2 epochs; --epochs must "
                                  "be 2 or more to resume it")


def test_resume_refused_for_a_round_does_not_read_as_starting_from_scratch(tmp_path, capsys, straight):
    data = tmp_path / "data"
    data.mkdir()
    assert main(["train", str(data), "--from", str(straight.path), "--resume", "-o", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "from scratch" not in err
    assert "a fine-tuning round (--from with DATA) is short and keeps none: run it again" in err
