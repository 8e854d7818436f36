"""A run its time limit (train --minutes) cut in the middle of an epoch resumes at the step it stopped at, so a run
spread over several sessions ends where a single long run would: same weights, same steps, an honest history."""

import shutil
from dataclasses import replace

import pytest
import torch

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.kinds_training import KindTrainConfig, train_kind
from napari_particle_detect.learning.training import TrainingCancelled, train
from napari_particle_detect.models import load_model

from helpers import TINY

SPHERES = replace(TINY, epochs=2, keep="last")  # 2 epochs of 3 steps; every epoch saved
CHAINS = KindTrainConfig(kind="chains", epochs=2, steps_per_epoch=3, batch_size=2, crop=48, validation_images=1,
                         validation_size=48, threads=1)
# Stops a session after its first step; the learning rate follows the steps alone, so the run still ends as an
# uninterrupted one.
TINY_LIMIT = 1e-6


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The sphere run trained in one go."""
    torch.set_num_threads(1)
    return train(SPHERES, out=tmp_path_factory.mktemp("straight") / "m")


def weights(path) -> dict:
    return load_model(path, "cpu").network.state_dict()


def state(out) -> dict:
    return torch.load(out.with_suffix(".state.pt"), weights_only=True)


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def optimiser_steps(saved: dict) -> int:
    return int(saved["optimiser"]["state"][0]["step"])


def assert_ends_as(out, straight_out) -> None:
    """The same saved model, last weights and number of steps trained."""
    assert optimiser_steps(state(out)) == optimiser_steps(state(straight_out)) == 6
    assert_same(state(out)["network"], state(straight_out)["network"])
    assert_same(weights(out), weights(straight_out))


def epochs_and_cuts(history: list[dict]) -> list[tuple]:
    return [(r["epoch"], r.get("stopped_at_time_limit")) for r in history]


def test_a_sphere_run_cut_mid_epoch_resumes_at_its_next_step_and_ends_as_one_uninterrupted_run(tmp_path, straight):
    out = tmp_path / "m.pt"
    train(replace(SPHERES, time_limit_s=TINY_LIMIT), out=out)  # a time limit may change on resuming
    done = train(SPHERES, out=out, resume=True)

    assert_ends_as(out, straight.path)
    assert epochs_and_cuts(done.history) == [(1, {"steps_done": 1, "steps": 3}), (1, None), (2, None)]
    assert [r["loss"] for r in done.history[1:]] == [r["loss"] for r in straight.history]
    record = done.model.card.training
    assert record["finished"] is True and "stopped_at_time_limit" not in record


def test_the_weights_a_time_limit_cut_at_are_the_sessions_result_and_a_resume_chooses_among_whole_epochs(
        tmp_path, straight):
    out = tmp_path / "m.pt"
    epoch_ended = {"stop": False}
    with pytest.raises(TrainingCancelled):  # session 1: epoch 1
        train(SPHERES, out=out, progress=lambda r: epoch_ended.update(stop=r["event"] == "epoch"),
              cancel=lambda: epoch_ended["stop"])
    after_epoch_1 = weights(out)
    cut = train(replace(SPHERES, time_limit_s=TINY_LIMIT), out=out, resume=True)  # session 2: step 1 of epoch 2
    assert not all(torch.equal(a, b) for a, b in zip(weights(out).values(), after_epoch_1.values()))
    assert epochs_and_cuts(cut.history) == [(1, None), (2, {"steps_done": 1, "steps": 3})]
    assert cut.model.card.training["stopped_at_time_limit"] == {"steps_done": 4, "steps": 6}
    with pytest.raises(TrainingCancelled):  # session 3, stopped at once: the resumed run's best is epoch 1's
        train(SPHERES, out=out, resume=True, cancel=lambda: True)
    assert_same(weights(out), after_epoch_1)
    done = train(SPHERES, out=out, resume=True)  # session 4

    assert_ends_as(out, straight.path)
    assert epochs_and_cuts(done.history) == [(1, None), (2, {"steps_done": 1, "steps": 3}), (2, None)]
    assert done.model.card.training["best_epoch"] == 2


def test_a_kind_run_cut_mid_epoch_resumes_at_its_next_step_and_ends_as_one_uninterrupted_run(tmp_path):
    straight_kind = train_kind(CHAINS, tmp_path / "straight.pt")
    out = tmp_path / "c.pt"
    train_kind(replace(CHAINS, time_limit_s=TINY_LIMIT), out)
    done = train_kind(CHAINS, out, resume=True)

    assert_ends_as(out, straight_kind.path)
    history = done.card.training["history"]
    assert epochs_and_cuts(history) == [(1, {"steps_done": 1, "steps": 3}), (1, None), (2, None)]
    assert [r["loss"] for r in history[1:]] == [r["loss"] for r in straight_kind.card.training["history"]]
    assert done.card.training["finished"] is True
    assert done.card.training["best_epoch"] == straight_kind.card.training["best_epoch"]


def test_a_resume_state_cut_at_a_step_it_cannot_resume_at_is_refused_in_one_line(tmp_path):
    out = tmp_path / "m.pt"
    train(replace(SPHERES, time_limit_s=TINY_LIMIT), out=out)
    path = out.with_suffix(".state.pt")
    shutil.copy(path, tmp_path / "cut.state.pt")
    for change, problem in (({"step": 3}, "step 3 is not between 0 and 2"),
                            ({"epoch_losses": []}, "epoch_losses is not the 1 losses of the steps done"),
                            ({"epoch": 2}, "step 1 of epoch 3 is beyond the run's 2 epochs")):
        torch.save({**torch.load(tmp_path / "cut.state.pt", weights_only=True), **change}, path)
        with pytest.raises(ParticleDetectError) as refused:
            train(SPHERES, out=out, resume=True)
        assert str(refused.value) == f"{path}: cannot resume from it ({problem})"
