"""The review project on disk (Qt-free): frames, reviews, rounds, fine-tuning into a workspace, export."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.models import load_model
from napari_particle_detect.session import (
    FineTuneSettings, RoundInfo, Session, export_tables, fine_tune, project_folder_for_data,
    project_folder_for_image,
)
from napari_particle_detect.synthetic import benchmark_config, synthesize
from napari_particle_detect.training import TrainingCancelled

from helpers import tiny_model_file

TINY_TUNE = FineTuneSettings(epochs=1, steps_per_epoch=3, batch_size=2, crop=32, validation_images=1,
                             validation_size=48, threads=1)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("model"))


@pytest.fixture
def stack():
    return np.stack([synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=s).image for s in range(3)])


def _table(frame, n, source="model"):
    rng = np.random.default_rng(frame)
    return pd.DataFrame({"frame": frame, "y": rng.uniform(0, 60, n), "x": rng.uniform(0, 60, n),
                         "score": rng.uniform(0.3, 1, n), "source": source})


def test_project_folder_sits_beside_the_image(tmp_path):
    session = Session.open(tmp_path / "cells.tif")
    assert session.folder == tmp_path / "cells.particle-detect" == project_folder_for_image(tmp_path / "cells.tif")
    assert not session.folder.exists()  # opening an image alone leaves no trace
    session.save_frame(0, _table(0, 2))
    assert json.loads((session.folder / "state.json").read_text())["image"] == str(tmp_path / "cells.tif")
    chosen = tmp_path / "elsewhere"
    chosen.mkdir()
    assert Session.open(chosen).folder == chosen  # any folder the user picks is the project itself


def test_frames_are_saved_atomically_and_restored_on_reopen(tmp_path):
    session = Session.open(tmp_path / "img.tif", n_frames=5)
    session.save_frame(3, _table(3, 7))
    session.save_frame(1, _table(1, 0))  # a frame the user emptied is a real, empty frame
    assert (session.folder / "frames" / "frame-0003.csv").exists()
    assert not list(session.folder.rglob("*.tmp"))
    accepted = session.accept_frame(3, _table(3, 7).assign(source=["model"] * 6 + ["added"]))
    assert list(accepted["source"]) == ["accepted"] * 6 + ["added"]

    reopened = Session.open(tmp_path / "img.tif")
    assert reopened.saved_frames() == [1, 3]
    assert reopened.reviewed_frames == [3]
    assert len(reopened.load_frame(1)) == 0
    restored = reopened.load_frame(3)
    np.testing.assert_allclose(restored[["y", "x"]], accepted[["y", "x"]], atol=5e-4)
    assert list(restored["source"]) == list(accepted["source"])


def test_reviewed_frames_keep_acceptance_order_and_the_latest_is_held_out(tmp_path):
    session = Session.open(tmp_path / "img.tif")
    assert session.training_split() == ([], [])
    session.accept_frame(4, _table(4, 3))
    assert session.training_split() == ([4], [])  # one frame: train on it, nothing to score on
    session.accept_frame(0, _table(0, 3))
    session.accept_frame(2, _table(2, 3))
    session.accept_frame(4, _table(4, 3))  # re-accepting moves it to the end
    assert session.reviewed_frames == [0, 2, 4]
    assert session.training_split() == ([0, 2], [4])
    assert session.training_split(hold_out=False) == ([0, 2, 4], [])
    session.unaccept_frame(2)
    assert Session.open(session.folder).reviewed_frames == [0, 4]


def test_rounds_start_from_a_copy_and_are_numbered(tmp_path, tiny_model):
    session = Session.open(tmp_path / "img.tif")
    first = session.ensure_initial_round(tiny_model)
    assert first.name == "round-001" and session.round_path(1).exists()
    assert session.round_path(1).with_suffix(".json").exists()
    assert session.ensure_initial_round(tiny_model).number == 1  # idempotent
    second = session.import_model(tiny_model)
    assert second.number == 2 and session.current_round.number == 2
    session.set_current_round(1)
    assert Session.open(session.folder).current_round.number == 1
    with pytest.raises(ParticleDetectError):
        session.set_current_round(9)
    assert not session.leftover_workspaces()


def test_unsaved_images_get_a_stable_folder_under_home(tmp_path, monkeypatch):
    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_HOME", str(tmp_path))
    data = np.arange(3 * 16 * 16, dtype=np.uint16).reshape(3, 16, 16)
    folder = project_folder_for_data("my image", data)
    assert folder.parent == tmp_path / "projects"
    assert folder == project_folder_for_data("my image", data.copy())
    assert folder != project_folder_for_data("my image", data + 1)


def test_fine_tune_builds_a_round_in_a_workspace_and_commit_publishes_it(tmp_path, tiny_model, stack):
    torch.set_num_threads(1)
    session = Session.open(tmp_path / "img.tif")
    with pytest.raises(ParticleDetectError, match="Detect first"):
        fine_tune(session, stack, TINY_TUNE, device="cpu")
    session.ensure_initial_round(tiny_model)
    session.remember_detection(10.0, "auto")
    with pytest.raises(ParticleDetectError, match="accept at least one"):
        fine_tune(session, stack, TINY_TUNE, device="cpu")
    truth = [synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=s).centres for s in range(3)]
    for frame in (0, 1):
        session.accept_frame(frame, pd.DataFrame({"y": truth[frame][:, 0], "x": truth[frame][:, 1]}))
    events = []
    outcome = fine_tune(session, stack, TINY_TUNE, device="cpu", progress=events.append)
    assert {e["event"] for e in events} == {"step", "epoch"}
    assert outcome.workspace.exists() and session.current_round.number == 1  # not published yet
    assert outcome.info.trained_frames == [0] and outcome.info.held_out_frames == [1]
    assert 0.0 <= outcome.info.f1 <= 1.0 and 0.0 <= outcome.info.parent_f1 <= 1.0
    info = session.commit_round(outcome.workspace, outcome.info)
    assert info.name == "round-002" and session.current_round.number == 2
    assert load_model(session.round_path(2)).card.training["fine_tuned_from"] == "round-001"
    assert not session.leftover_workspaces() and not list(session.folder.rglob("*.state.pt"))


def test_cancelled_fine_tune_leaves_the_project_as_it_was(tmp_path, tiny_model, stack):
    session = Session.open(tmp_path / "img.tif")
    session.ensure_initial_round(tiny_model)
    session.remember_detection(10.0, "auto")
    session.accept_frame(0, _table(0, 20))
    before = (session.folder / "state.json").read_text()
    calls = []
    with pytest.raises(TrainingCancelled):
        fine_tune(session, stack, TINY_TUNE, device="cpu", cancel=lambda: calls.append(1) or len(calls) > 2)
    assert (session.folder / "state.json").read_text() == before
    assert not session.leftover_workspaces()
    assert [r.number for r in session.rounds] == [1]


def test_export_adds_physical_units_and_counts_every_frame():
    table = pd.concat([_table(0, 3), _table(2, 5, "added")])
    centres, counts = export_tables(table, scale=(0.5, 0.25), unit="um", n_frames=4, reviewed=[2])
    assert list(centres.columns) == ["frame", "y", "x", "score", "source", "y_um", "x_um"]
    np.testing.assert_allclose(centres["y_um"], centres["y"] * 0.5)
    np.testing.assert_allclose(centres["x_um"], centres["x"] * 0.25)
    assert counts.to_dict("list") == {"frame": [0, 1, 2, 3], "count": [3, 0, 5, 0],
                                      "reviewed": [False, False, True, False]}
    plain, _ = export_tables(table)
    assert list(plain.columns) == ["frame", "y", "x", "score", "source"]


def test_round_info_round_trips_through_state(tmp_path, tiny_model):
    session = Session.open(tmp_path / "img.tif")
    session.ensure_initial_round(tiny_model)
    workspace = session.new_workspace()
    load_model(tiny_model)  # sanity: the model is readable
    for suffix in (".pt", ".json"):
        (workspace / f"model{suffix}").write_bytes(tiny_model.with_suffix(suffix).read_bytes())
    session.commit_round(workspace, RoundInfo(number=0, origin="fine-tuned", parent=1, trained_frames=[0, 2],
                                              held_out_frames=[5], f1=0.8, parent_f1=0.6))
    info = Session.open(session.folder).round(2)
    assert (info.parent, info.trained_frames, info.held_out_frames) == (1, [0, 2], [5])
    assert (info.f1, info.parent_f1) == (0.8, 0.6)
