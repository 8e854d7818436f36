"""A session that a pause stopped inside an epoch stays in the model's lineage: where and how long it trained."""

import json
import time

import pytest
import torch

from napari_particle_detect.learning.recipes import final_model_path, load_recipe, run_recipe, sessions_of

from helpers import tiny_recipe


def test_sessions_paused_inside_an_epoch_keep_their_device_and_steps_in_the_lineage(tmp_path):
    # `recipe R.toml --minutes M` sessions shorter than an epoch: each trained a step and wrote no epoch record,
    # so the final model's lineage named only the session that finished the epoch, as if it had trained it all.
    torch.set_num_threads(1)
    path = tiny_recipe(tmp_path, "paused-sessions")
    for _ in range(2):
        assert run_recipe(path, minutes=1e-9, threads=1).paused
        time.sleep(1.1)  # a session is named by its start, to the second
    done = run_recipe(path, threads=1)
    card = json.loads(final_model_path(load_recipe(path)).with_suffix(".json").read_text())
    sessions = card["training"]["lineage"][-1]["sessions"]
    assert done.model is not None and len(sessions) == 3
    assert [s.get("paused_after_steps") for s in sessions] == [1, 1, None]
    assert all(s["device"] == "cpu" and s["threads"] == 1 and s["epochs"] == [1, 1] for s in sessions)
    assert len({s["session"] for s in sessions}) == 3 and all(s["hours"] >= 0 for s in sessions)


def test_paused_sessions_are_read_before_the_record_of_the_epoch_they_trained_in():
    first = {"session": "2026-12-04T15:00:00+00:00", "device": "cpu", "threads": 2}
    paused = {"session": "2026-12-04T16:00:00+00:00", "device": "cuda", "threads": None}
    last = {"session": "2026-12-05T09:00:00+00:00", "device": "cpu", "threads": 1}
    history = [{"epoch": 0, "seconds": 0.0},
               {"epoch": 1, "seconds": 1800.0, **first},
               {"epoch": 2, "seconds": 360.0, **last,
                "paused_sessions": [{"epoch": 2, "seconds": 3600.0, **first, "steps": 40},
                                    {"epoch": 2, "seconds": 720.0, **paused, "steps": 5}]}]
    assert sessions_of(history) == [
        {**first, "epochs": [1, 2], "hours": 1.0, "paused_after_steps": 40},
        {**paused, "epochs": [2, 2], "hours": 0.2, "paused_after_steps": 5},
        {**last, "epochs": [2, 2], "hours": 0.1}]


def test_a_kind_session_cancelled_inside_an_epoch_is_carried_by_that_epochs_record(tmp_path):
    from napari_particle_detect.learning.kinds_training import KindTrainConfig, train_kind
    from napari_particle_detect.learning.training import TrainingCancelled

    torch.set_num_threads(1)
    config = KindTrainConfig(kind="chains", epochs=1, steps_per_epoch=3, batch_size=1, crop=32, validation_images=1,
                             validation_size=48, threads=1)
    asked = []

    def after_two_steps() -> bool:  # asked before each step: the session trains two, then stops
        asked.append(1)
        return len(asked) > 2

    out = tmp_path / "chains.pt"
    with pytest.raises(TrainingCancelled):
        train_kind(config, out, cancel=after_two_steps)
    done = train_kind(config, out, resume=True)
    (record,) = [r for r in done.card.training["history"] if r.get("epoch")]
    (paused,) = record["paused_sessions"]
    assert paused["steps"] == 2 and paused["epoch"] == 1 and paused["device"] == "cpu" and paused["threads"] == 1
