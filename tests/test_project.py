"""The review project on disk (Qt-free): frames, reviews, regions, rounds, export."""

import json

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.models import load_model
from napari_particle_detect.projects.project import (
    Project, Region, RoundInfo, project_folder_for_data, project_folder_for_image,
)
from napari_particle_detect.files.tables import Placement, export_tables, physical_placement

from helpers import tiny_model_file


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("model"))


def _table(frame, n, source="model"):
    rng = np.random.default_rng(frame)
    return pd.DataFrame({"frame": frame, "y": rng.uniform(0, 60, n), "x": rng.uniform(0, 60, n),
                         "score": rng.uniform(0.3, 1, n), "source": source})


def test_project_folder_sits_beside_the_image(tmp_path):
    project = Project.open(tmp_path / "cells.tif")
    assert project.folder == tmp_path / "cells.particle-detect" == project_folder_for_image(tmp_path / "cells.tif")
    assert not project.folder.exists()  # opening an image alone leaves no trace
    project.save_frame(0, _table(0, 2))
    assert json.loads((project.folder / "state.json").read_text())["image"] == str(tmp_path / "cells.tif")
    chosen = tmp_path / "elsewhere"
    chosen.mkdir()
    assert Project.open(chosen).folder == chosen  # any folder the user picks is the project itself


def test_frames_are_saved_atomically_and_restored_on_reopen(tmp_path):
    project = Project.open(tmp_path / "img.tif", n_frames=5)
    project.save_frame(3, _table(3, 7))
    project.save_frame(1, _table(1, 0))  # a frame the user emptied is a real, empty frame
    assert (project.folder / "frames" / "frame-0003.csv").exists()
    assert not list(project.folder.rglob("*.tmp"))
    accepted = project.accept_frame(3, _table(3, 7).assign(source=["model"] * 6 + ["added"]))
    assert list(accepted["source"]) == ["accepted"] * 6 + ["added"]

    reopened = Project.open(tmp_path / "img.tif")
    assert reopened.saved_frames() == [1, 3]
    assert reopened.reviewed_frames == [3]
    assert len(reopened.load_frame(1)) == 0
    restored = reopened.load_frame(3)
    np.testing.assert_allclose(restored[["y", "x"]], accepted[["y", "x"]], atol=5e-4)
    assert list(restored["source"]) == list(accepted["source"])


def test_scores_come_back_exactly_so_a_reopened_frame_shows_what_it_showed(tmp_path):
    from napari_particle_detect._napari.layers import shown_mask

    project = Project.open(tmp_path / "img.tif", n_frames=1)
    table = pd.DataFrame({"frame": 0, "y": [10.123456789, 20.0], "x": [5.5, 6.25], "score": [0.30027, 0.2999],
                          "source": "model"})
    project.save_frame(0, table)
    restored = Project.open(tmp_path / "img.tif").load_frame(0)
    assert restored["score"].tolist() == [0.30027, 0.2999] and restored["y"].iloc[0] == 10.123456789
    assert shown_mask(restored, 0.30).tolist() == shown_mask(table, 0.30).tolist() == [True, False]


def test_reviewed_frames_keep_acceptance_order_and_the_latest_is_held_out(tmp_path):
    project = Project.open(tmp_path / "img.tif")
    assert project.training_split() == ([], [])
    project.accept_frame(4, _table(4, 3))
    assert project.training_split() == ([4], [])  # one frame: train on it, nothing to score on
    project.accept_frame(0, _table(0, 3))
    project.accept_frame(2, _table(2, 3))
    project.accept_frame(4, _table(4, 3))  # re-accepting moves it to the end
    assert project.reviewed_frames == [0, 2, 4]
    assert project.training_split() == ([0, 2], [4])
    assert project.training_split(hold_out=False) == ([0, 2, 4], [])
    project.unaccept_frame(2)
    assert Project.open(project.folder).reviewed_frames == [0, 4]


def test_rounds_start_from_a_copy_and_are_numbered(tmp_path, tiny_model):
    project = Project.open(tmp_path / "img.tif")
    first = project.ensure_initial_round(tiny_model)
    assert first.name == "round-001" and project.round_path(1).exists()
    assert project.round_path(1).with_suffix(".json").exists()
    assert project.ensure_initial_round(tiny_model).number == 1  # idempotent
    second = project.import_model(tiny_model)
    assert second.number == 2 and project.current_round.number == 2
    project.set_current_round(1)
    assert Project.open(project.folder).current_round.number == 1
    with pytest.raises(ParticleDetectError):
        project.set_current_round(9)
    assert not project.leftover_workspaces()


def test_unsaved_images_get_a_stable_folder_under_home(tmp_path, monkeypatch):
    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_HOME", str(tmp_path))
    data = np.arange(3 * 16 * 16, dtype=np.uint16).reshape(3, 16, 16)
    folder = project_folder_for_data("my image", data)
    assert folder.parent == tmp_path / "projects"
    assert folder == project_folder_for_data("my image", data.copy())
    assert folder != project_folder_for_data("my image", data + 1)


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
    # Where napari draws them (its status bar's coordinates): the layer's offset counts too.
    offset, _ = export_tables(table, scale=(0.5, 0.25), unit="um", translate=(100.0, 50.0))
    np.testing.assert_allclose(offset["y_um"], offset["y"] * 0.5 + 100.0)
    assert physical_placement(offset) == Placement((0.5, 0.25), (100.0, 50.0), "um")
    assert physical_placement(plain) is None
    # Detect stopped after frames 0 and 1 (1 found nothing): frames never detected have no count, not 0.
    _, partial = export_tables(table, n_frames=4, reviewed=[2], detected={0, 1})
    assert partial["count"].tolist()[:3] == [3, 0, 5] and pd.isna(partial["count"].iloc[3])
    assert partial["detected"].tolist() == [True, True, True, False]


def test_round_info_round_trips_through_state(tmp_path, tiny_model):
    project = Project.open(tmp_path / "img.tif")
    project.ensure_initial_round(tiny_model)
    workspace = project.new_workspace()
    load_model(tiny_model)  # sanity: the model is readable
    for suffix in (".pt", ".json"):
        (workspace / f"model{suffix}").write_bytes(tiny_model.with_suffix(suffix).read_bytes())
    project.commit_round(workspace, RoundInfo(number=0, origin="fine-tuned", parent=1, trained_frames=[0, 2],
                                              held_out=1, f1=0.8, parent_f1=0.6, threshold=0.3,
                                              improved=True, seconds=12.5))
    info = Project.open(project.folder).round(2)
    assert (info.parent, info.trained_frames, info.held_out) == (1, [0, 2], 1)
    assert (info.threshold, info.improved, info.seconds) == (0.3, True, 12.5)
    assert (info.f1, info.parent_f1) == (0.8, 0.6)


def test_regions_accept_network_points_inside_the_box_only(tmp_path):
    project = Project.open(tmp_path / "img.tif", n_frames=3, frame_shape=(64, 64))
    table = pd.DataFrame({"y": [5.0, 15.0, 40.0, 12.0], "x": [5.0, 15.0, 40.0, 14.0], "score": [0.9, 0.8, 0.7, np.nan],
                          "source": ["model", "model", "model", "added"]})
    accepted = project.accept_region(1, (0, 0, 20, 20), table)
    assert list(accepted["source"]) == ["accepted", "accepted", "model", "added"]
    assert list(project.load_frame(1)["source"]) == list(accepted["source"])  # the frame was saved as given
    project.accept_frame(2, _table(2, 3))
    project.accept_region(1, (30, 30, 50.5, 63.5), accepted)
    project.accept_region(1, (0, 0, 20, 20), accepted)  # the same box again: moved to the end, not repeated
    reopened = Project.open(project.folder)
    assert reopened.reviewed_areas() == [(2, None), (1, Region(1, 30, 30, 50.5, 63.5)), (1, Region(1, 0, 0, 20, 20))]
    assert reopened.regions(1) == [Region(1, 30, 30, 50.5, 63.5), Region(1, 0, 0, 20, 20)] and reopened.regions(0) == []
    assert reopened.reviewed_frames == [2] and not reopened.is_reviewed(1)
    truth = reopened.region_truth(Region(1, 0, 0, 20, 20))
    assert sorted(truth["y"]) == [5.0, 12.0, 15.0]  # every point inside, whatever its source
    assert list(reopened.corrections()["frame"].unique()) == [2]  # whole reviewed frames only
    reopened.unaccept_region(1, (0, 0, 20, 20))
    assert project.regions() == [Region(1, 30, 30, 50.5, 63.5)]  # the first object sees the second's change


@pytest.mark.parametrize("frame, box, problem", [
    (0, (10, 10, 5, 20), "y0 < y1"), (0, (0, 0, float("nan"), 3), "finite"), (0, (-3, 0, 5, 5), "outside"),
    (0, (0, 0, 5, 64.5), "outside"), (3, (0, 0, 5, 5), "beyond the 3 frames"), (-1, (0, 0, 5, 5), "whole number"),
    (0, (1, 2, 3), "four numbers"),
])
def test_bad_regions_are_one_clear_error(tmp_path, frame, box, problem):
    project = Project.open(tmp_path / "img.tif", n_frames=3, frame_shape=(64, 64))
    with pytest.raises(ParticleDetectError, match=problem):
        project.accept_region(frame, box, _table(0, 2))
    assert not project.folder.exists()


def test_threshold_and_detection_settings_are_restored(tmp_path):
    project = Project.open(tmp_path / "img.tif")
    assert project.threshold is None and project.polarity == "auto"
    project.remember_threshold(0.35)
    project.remember_detection(11.5, "dark")
    reopened = Project.open(project.folder)
    assert (reopened.threshold, reopened.diameter, reopened.polarity) == (0.35, 11.5, "dark")
    for bad in (float("nan"), -0.1, 1.5):
        with pytest.raises(ParticleDetectError, match="threshold"):
            project.remember_threshold(bad)
    with pytest.raises(ParticleDetectError, match="polarity"):
        project.remember_detection(10, "sideways")


def test_version_1_state_still_loads(tmp_path, tiny_model):
    folder = tmp_path / "old.particle-detect"
    (folder / "rounds" / "round-001").mkdir(parents=True)
    for suffix in (".pt", ".json"):
        (folder / "rounds" / "round-001" / f"model{suffix}").write_bytes(tiny_model.with_suffix(suffix).read_bytes())
    (folder / "state.json").write_text(json.dumps({
        "version": 1, "image": "old.tif", "n_frames": 5, "reviewed": [3, 1], "current_round": 1,
        "diameter": 12.0, "polarity": "auto",
        "rounds": [{"number": 1, "origin": "shipped", "parent": None, "trained_frames": [], "held_out_frames": [],
                    "f1": None, "parent_f1": None, "created": "2024-01-01 10:00:00"}],
    }))
    with pytest.warns(UserWarning, match="no centres file for reviewed frames 1, 3"):  # their files are not here
        project = Project.open(folder)
    assert project.reviewed_frames == [3, 1] and project.current_round.number == 1
    assert project.current_round.held_out == 0 and project.threshold is None
    project.accept_frame(0, _table(0, 2))
    assert json.loads((folder / "state.json").read_text())["version"] == 2
    with pytest.warns(UserWarning, match="no centres file"):
        assert Project.open(folder).reviewed_frames == [3, 1, 0]


def test_a_round_can_be_kept_without_switching_to_it(tmp_path, tiny_model):
    project = Project.open(tmp_path / "img.tif")
    project.ensure_initial_round(tiny_model)
    workspace = project.new_workspace()
    for suffix in (".pt", ".json"):
        (workspace / f"model{suffix}").write_bytes(tiny_model.with_suffix(suffix).read_bytes())
    info = project.commit_round(workspace, RoundInfo(number=0, origin="fine-tuned", parent=1, improved=False),
                                make_current=False)
    assert info.number == 2 and project.current_round.number == 1
    assert json.loads((project.folder / "rounds" / "round-002" / "round.json").read_text())["improved"] is False


def test_frames_keep_the_threshold_of_the_round_that_detected_them(tmp_path, tiny_model):
    # One model's scores are never compared with another model's threshold: a frame another round
    # detected is shown at the threshold that round was left at, until it is detected again.
    project = Project.open(tmp_path / "cells.tif", n_frames=4, frame_shape=(64, 64))
    project.ensure_initial_round(tiny_model)  # round 1, in use
    for frame in range(3):
        project.save_frame(frame, _table(frame, 3))
    project.record_detections([0, 1], 1)  # frame 2 was saved before rounds were kept per frame
    project.remember_threshold(0.33)
    assert project.held_thresholds() == {}
    project.import_model(tiny_model)  # round 2, switched in
    assert project.current_round.number == 2 and project.threshold is None  # its card's applies
    assert project.held_thresholds() == {0: 0.33, 1: 0.33, 2: 0.33}
    project.remember_threshold(0.5)
    project.record_detections([1], 2)
    assert project.held_thresholds() == {0: 0.33, 2: 0.33}
    project.set_current_round(1)  # back: the threshold it was left at, and round 2's frame keeps 0.5
    assert project.threshold == 0.33 and project.held_thresholds() == {1: 0.5}
    reopened = Project.open(project.folder)
    assert reopened.detected_by == {0: 1, 1: 2, 2: 1} and reopened.held_thresholds() == {1: 0.5}
    project.delete_round(2)  # its frame still shows its detections, at its threshold
    assert Project.open(project.folder).held_thresholds() == {1: 0.5}

    good = project.state_path.read_text()
    for field, value, problem in [("detected_by", {"x": 1}, "detected_by keys must be whole numbers"),
                                  ("detected_by", {"9": 1}, "frame 9 is beyond the 4 frames"),
                                  ("detected_by", {"0": 0}, r"detected_by\[0\] must be between 1"),
                                  ("round_thresholds", {"1": 1.5}, r"round_thresholds\[1\] must be at least 0")]:
        project.state_path.write_text(json.dumps({**json.loads(good), field: value}))
        with pytest.raises(ParticleDetectError, match=problem):
            Project.open(project.folder)


# ---- where an image file's project is kept ------------------------------------------------------------
def test_a_folder_that_cannot_be_written_sends_the_project_to_the_home(tmp_path, monkeypatch):
    from napari_particle_detect.projects import locations

    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_HOME", str(tmp_path / "home"))
    data = tmp_path / "data"
    data.mkdir()
    assert locations.project_location(data / "cells.tif") == locations.ProjectLocation(data / "cells.particle-detect")
    assert not list(data.iterdir())  # the write check leaves nothing behind
    not_a_folder = tmp_path / "not-a-folder"  # no folder can be made in it, even by root
    not_a_folder.write_text("")
    assert not locations.can_write(not_a_folder / "cells.particle-detect")
    where = locations.project_location(not_a_folder / "cells.tif")
    assert where.moved and where.beside == not_a_folder / "cells.particle-detect"
    assert where.folder.parent == tmp_path / "home" / "projects" and where.folder.name.startswith("cells-")
    assert where.folder.name.endswith(".particle-detect")
    assert locations.project_location(not_a_folder / "cells.tif") == where  # the same image, the same folder
    (tmp_path / "other").write_text("")
    assert locations.project_location(tmp_path / "other" / "cells.tif").folder != where.folder  # a namesake

    # Once used it is found again, even when the image's folder can be written by then.
    project = Project.open(where.folder, image=str(not_a_folder / "cells.tif"), n_frames=2, frame_shape=(64, 64))
    project.save_frame(0, _table(0, 3))
    monkeypatch.setattr(locations, "can_write", lambda folder: True)
    assert locations.project_location(not_a_folder / "cells.tif") == where


def test_a_read_only_project_beside_the_image_is_carried_on_in_a_copy(tmp_path, monkeypatch):
    from napari_particle_detect.projects import locations

    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_HOME", str(tmp_path / "home"))
    project = Project.open(tmp_path / "cells.tif", n_frames=2, frame_shape=(64, 64))
    project.save_frame(1, _table(1, 4))
    project.accept_frame(1, _table(1, 4))
    monkeypatch.setattr(locations, "can_write", lambda folder: folder != project.folder)
    where = locations.project_location(tmp_path / "cells.tif")
    assert where.moved and where.folder != project.folder
    copy = Project.open(where.folder)
    assert copy.saved_frames() == [1] and copy.reviewed_frames == [1] and len(copy.load_frame(1)) == 4
    assert not any(p.name.startswith(".copying-") for p in where.folder.parent.iterdir())


def test_a_chosen_folder_that_is_gone_is_named_by_the_location_and_used_again_once_back(tmp_path, monkeypatch):
    # Renamed after Folder… chose it, the folder was silently replaced by a new, empty project beside the image.
    from napari_particle_detect.projects import locations

    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_HOME", str(tmp_path / "home"))
    image = tmp_path / "img" / "cells.tif"
    image.parent.mkdir()
    chosen = tmp_path / "store" / "mine.particle-detect"
    project = Project.open(chosen, image=str(image), n_frames=2, frame_shape=(64, 64))
    project.save_frame(0, _table(0, 3))
    assert locations.remember_chosen_folder(image, chosen)
    assert locations.project_location(image) == locations.ProjectLocation(chosen)
    assert locations.missing_chosen_folder(image) is None

    chosen.rename(tmp_path / "store" / "mine-renamed.particle-detect")
    where = locations.project_location(image)
    assert where.folder == tmp_path / "img" / "cells.particle-detect" and where.missing_chosen == chosen
    assert locations.missing_chosen_folder(image) == chosen and locations.known_project_folder(image) is None

    (tmp_path / "store" / "mine-renamed.particle-detect").rename(chosen)  # a disk mounted again, say
    assert locations.project_location(image) == locations.ProjectLocation(chosen)


# ---- two windows (or programs) saving the same frame ---------------------------------------------
def _points(*yx, source="added"):
    return pd.DataFrame({"frame": 0, "y": [float(p[0]) for p in yx], "x": [float(p[1]) for p in yx],
                         "score": np.nan, "source": source})


def _yx(table):
    return sorted(map(tuple, table[["y", "x"]].to_numpy(float).tolist()))


def test_a_frame_saved_from_an_older_read_keeps_what_another_window_saved_since(tmp_path):
    # Window A saved its whole frame over B's edits: a point B added vanished from disk.
    folder = tmp_path / "img.particle-detect"
    window_a = Project.open(folder, n_frames=2, frame_shape=(64, 64))
    window_b = Project.open(folder)
    start = window_a.save_frame_merging(0, _points((10, 10), (20, 20)), None)
    a_read, b_read = start.snapshot(), window_b.frame_snapshot(0)

    by_b = window_b.save_frame_merging(0, pd.concat([b_read.table, _points((30, 30))]), b_read)
    assert not by_b.merged
    # A, from its older read, deletes (10, 10) and adds (40, 40): B's (30, 30) stays, B's nothing else comes back.
    by_a = window_a.save_frame_merging(0, _points((20, 20), (40, 40)), a_read)
    assert by_a.merged and _yx(by_a.theirs) == [(10, 10), (20, 20), (30, 30)]
    assert _yx(window_b.load_frame(0)) == _yx(by_a.table) == [(20, 20), (30, 30), (40, 40)]
    # B deletes (30, 30) from its read (before A's save): A's deletion of (10, 10) is not undone.
    window_b.save_frame_merging(0, _points((10, 10), (20, 20)), by_b.snapshot())
    assert _yx(window_a.load_frame(0)) == [(20, 20), (40, 40)]


def test_a_save_with_nothing_changed_since_reads_no_file(tmp_path, monkeypatch):
    # The common case, one window: a stamp compared, the frame written, as fast as a plain save.
    project = Project.open(tmp_path / "img.particle-detect", n_frames=2, frame_shape=(64, 64))
    saved = project.save_frame_merging(0, _points((10, 10)), None)
    monkeypatch.setattr(project, "load_frame", lambda frame: pytest.fail("read a frame nobody else changed"))
    again = project.save_frame_merging(0, _points((10, 10), (5, 5)), saved.snapshot())
    assert not again.merged and again.stamp != saved.stamp
    assert not project.save_frame_merging(1, _points((3, 3)), None).merged  # a new frame: nothing to read


def test_the_same_detection_saved_by_two_windows_is_kept_once(tmp_path):
    folder = tmp_path / "img.particle-detect"
    window_a, window_b = Project.open(folder, n_frames=1), Project.open(folder, n_frames=1)
    old = window_a.save_frame_merging(0, _table(0, 4), None).snapshot()
    window_b.save_frame_merging(0, _table(0, 6).assign(y=lambda t: t["y"] + 0.5), old)
    # A detects the same frame with the same model, from the same older read, plus one point of its own.
    detected = window_b.load_frame(0)
    saved = window_a.save_frame_merging(0, pd.concat([detected, _points((1, 1))]), old)
    assert len(saved.table) == 7 and len(window_a.load_frame(0)) == 7


def test_accepting_from_an_older_read_keeps_the_other_windows_points(tmp_path):
    folder = tmp_path / "img.particle-detect"
    window_a = Project.open(folder, n_frames=2, frame_shape=(64, 64))
    window_b = Project.open(folder)
    network = _points((10, 10), (50, 50), source="model").assign(score=0.9)
    a_read = window_a.save_frame_merging(0, network, None).snapshot()
    window_b.save_frame_merging(0, pd.concat([window_b.load_frame(0), _points((30, 30))]),
                                window_b.frame_snapshot(0))

    accepted = window_a.accept_frame_merging(0, network, a_read)
    assert accepted.merged and window_a.reviewed_frames == [0]
    on_disk = window_b.load_frame(0)
    assert _yx(on_disk) == [(10, 10), (30, 30), (50, 50)]
    assert sorted(on_disk["source"]) == ["accepted", "accepted", "added"]

    box = window_b.accept_region_merging(1, (0, 0, 32, 32), _points((5, 5), source="model"), None)
    window_a.save_frame_merging(1, pd.concat([box.table, _points((60, 60))]), window_a.frame_snapshot(1))
    again = window_b.accept_region_merging(1, (0, 0, 32, 32), _points((5, 5), (6, 6), source="model"), box.snapshot())
    assert _yx(again.table) == [(5, 5), (6, 6), (60, 60)] and set(again.table["source"]) == {"accepted", "added"}


def test_two_programs_starting_a_project_at_once_import_the_first_model_once(tmp_path, tiny_model):
    # Both saw no round and imported the shipped model: rounds 001 and 002, both "shipped".
    import threading

    folder = tmp_path / "img.particle-detect"
    projects = [Project.open(folder, n_frames=1, frame_shape=(64, 64)) for _ in range(2)]
    start, got, errors = threading.Barrier(2), [], []

    def first_round(project):
        start.wait()
        try:
            got.append(project.ensure_initial_round(tiny_model).number)
        except Exception as exc:  # noqa: BLE001 (said by the assertion below)
            errors.append(exc)

    threads = [threading.Thread(target=first_round, args=(p,)) for p in projects]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and got == [1, 1]
    assert [r.number for r in Project.open(folder).rounds] == [1]


def test_a_frame_file_cut_short_is_reported_not_read_as_a_point(tmp_path):
    # A file cut to "0,97.11055488884449,6" loaded a point at x = 6.0, learned as ground truth.
    project = Project.open(tmp_path / "img.particle-detect", n_frames=2, frame_shape=(128, 128))
    project.save_frame(0, _points((97.11055488884449, 64.25)))
    project.save_frame(1, _points((3, 4)))
    path = project.frame_path(0)
    text = path.read_text()
    assert text.endswith("\n")
    path.write_text(text[:text.index("64.25") + 1])  # "...,97.11055488884449,6"

    with pytest.raises(ParticleDetectError, match="truncated"):
        project.load_frame(0)
    reopened = Project.open(project.folder)
    with pytest.warns(UserWarning, match="truncated"):
        everything = reopened.load_all()
    assert _yx(everything) == [(3, 4)]
    assert reopened.problems == [f"{path}: truncated: its last line is incomplete (frame 0 left out)"]


def test_frames_edited_since_their_detection_are_kept_across_openings(tmp_path):
    # A later session's Detect must know which frames hold edits an earlier one made, to keep them one undo away.
    project = Project.open(tmp_path / "img.particle-detect", n_frames=4, frame_shape=(64, 64))
    for frame in (2, 0, 2):
        project.mark_edited(frame)
    assert Project.open(project.folder).edited_frames == [0, 2]
    assert json.loads(project.state_path.read_text())["edited"] == [0, 2]
    written = project.state_path.stat().st_ino  # every write is a new file renamed over it
    project.mark_edited(2)  # every edit of a marked frame, not one state write each
    project.clear_edited([1, 3])
    assert project.state_path.stat().st_ino == written
    project.clear_edited([2, 3])  # detected again
    assert Project.open(project.folder).edited_frames == [0]

    good = json.loads(project.state_path.read_text())
    del good["edited"]  # a project made before edits were kept: none
    project.state_path.write_text(json.dumps(good))
    assert Project.open(project.folder).edited_frames == []
    for value, problem in [([7], "edited must be between 0 and 3"), ("0", "edited must be a list"),
                           ([True], "edited must be a whole number")]:
        project.state_path.write_text(json.dumps({**good, "edited": value}))
        with pytest.raises(ParticleDetectError, match=problem):
            Project.open(project.folder)
