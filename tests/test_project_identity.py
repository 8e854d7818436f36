"""A project knows which image it belongs to, which reviewed frames it really has, and how to get back
from a damaged state.json (the crash/robustness audit's findings)."""

import json
import os
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.rounds import run_round
from napari_particle_detect.projects.project import Project
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import notification_count, notifications_since, small_stack, tiny_model_file

TINY = replace(FINE_TUNE, steps_per_epoch=2, batch_size=2, crop=32, threads=1, unlabelled_frames=0)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("model"))


def _movie(n: int = 4, size: int = 64, first_seed: int = 0) -> np.ndarray:
    return np.stack([synthesize(benchmark_config("fluorescent", 0.4, (size, size)), seed=s).image
                     for s in range(first_seed, first_seed + n)]).astype(np.float32)


def _table(frame: int, n: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(frame)
    return pd.DataFrame({"frame": frame, "y": rng.uniform(0, 44, n), "x": rng.uniform(0, 44, n), "score": 0.9,
                         "source": "model"})


def _reviewed(tmp_path, movie: np.ndarray, frames=(0, 1), pixels: bool = False) -> Project:
    """A project of ``movie`` (its fingerprint recorded with ``pixels``) with ``frames`` accepted."""
    project = Project.open(tmp_path / "img.tif", n_frames=len(movie), frame_shape=movie.shape[1:],
                           **({"first_frame": movie[0]} if pixels else {}))
    for frame in frames:
        project.accept_frame(frame, _table(frame))
    return project


def _ready_for_a_round(project: Project, tiny_model) -> None:
    torch.set_num_threads(1)
    project.ensure_initial_round(tiny_model)
    project.remember_detection(10.0, "auto")


# ---- 1. an image replaced by another of the same name --------------------------------------------------
def test_an_image_of_another_size_is_refused_in_one_line_saying_what_to_do(tmp_path):
    movie = _movie()
    _reviewed(tmp_path, movie)
    for n_frames, shape, now in [(3, (50, 70), "3 frames of 50 x 70 pixels"), (3, (64, 64), "3 frames of 64 x 64"),
                                 (4, (64, 70), "4 frames of 64 x 70")]:
        with pytest.raises(ParticleDetectError) as refused:
            Project.open(tmp_path / "img.tif", n_frames=n_frames, frame_shape=shape)
        message = str(refused.value)
        assert message.startswith(str(tmp_path / "img.particle-detect")) and "\n" not in message
        assert "made for an image of 4 frames of 64 x 64 pixels" in message and f"'img.tif' has {now}" in message
        assert "move the project folder aside" in message and "Folder…" in message
    # The image it was made for, and a folder opened without knowing the image, open as before.
    assert Project.open(tmp_path / "img.tif", n_frames=4, frame_shape=(64, 64)).reviewed_frames == [0, 1]
    assert Project.open(tmp_path / "img.particle-detect").reviewed_frames == [0, 1]


def test_an_image_of_the_same_size_with_other_pixels_is_refused(tmp_path):
    movie = _movie()
    _reviewed(tmp_path, movie, pixels=True)
    later_frames = _movie(first_seed=12)  # frames 12-15 of the same movie: same size, same look
    with pytest.raises(ParticleDetectError, match=r"'img\.tif' is not the image this project was made for \(the "
                                                  r"same size, 4 frames of 64 x 64 pixels, but other pixels"):
        Project.open(tmp_path / "img.tif", n_frames=4, frame_shape=(64, 64), first_frame=later_frames[0])
    # The same pixels held another way (another dtype, a lazy array) are the same image.
    dask = pytest.importorskip("dask.array")
    assert Project.open(tmp_path / "img.tif", n_frames=4, frame_shape=(64, 64),
                        first_frame=dask.from_array(movie.astype(np.float64), chunks=(1, 32, 32))[0]).reviewed_frames \
        == [0, 1]


def test_a_project_made_before_fingerprints_gets_one_on_its_next_opening(tmp_path):
    from napari_particle_detect.projects.project_state import pixel_fingerprint

    movie = _movie()
    old = Project.open(tmp_path / "img.tif", n_frames=4, frame_shape=(64, 64))  # no pixels given
    old.accept_frame(0, _table(0))
    state_path = old.state_path
    assert json.loads(state_path.read_text())["fingerprint"] is None
    reopened = Project.open(tmp_path / "img.tif", n_frames=4, frame_shape=(64, 64), first_frame=movie[0])
    assert reopened.problems == [] and reopened.reviewed_frames == [0]  # not refused
    assert json.loads(state_path.read_text())["fingerprint"] == pixel_fingerprint(movie[0])
    with pytest.raises(ParticleDetectError, match="other pixels"):
        Project.open(tmp_path / "img.tif", n_frames=4, frame_shape=(64, 64), first_frame=_movie(first_seed=12)[0])


def test_the_fingerprint_reads_a_sparse_grid_of_the_first_frame_only():
    from napari_particle_detect.projects.project_state import pixel_fingerprint

    frame = np.arange(2000 * 3000, dtype=np.uint32).reshape(2000, 3000)
    read = []

    class Lazy:  # a frame that says what was read of it
        shape, ndim = frame.shape, 2

        def __getitem__(self, index):
            read.append(frame[index].size)
            return frame[index]

    assert pixel_fingerprint(Lazy()) == pixel_fingerprint(frame) == pixel_fingerprint(frame.astype(np.float32))
    assert read and max(read) <= 5000  # about 4,000 of the 6 million pixels
    changed = frame.copy()
    changed[::31, ::46] += 1
    assert pixel_fingerprint(changed) != pixel_fingerprint(frame)


def test_a_round_on_an_image_with_fewer_frames_is_one_clear_line_not_an_index_error(tmp_path, tiny_model):
    movie = _movie(3)
    project = _reviewed(tmp_path, movie, frames=(0, 1, 2))
    _ready_for_a_round(project, tiny_model)
    project = Project.open(project.folder)  # by its folder (as the CLI does): the image is not checked, the round does
    said = "made for an image of 3 frames of 64 x 64 pixels, but the image to train on has 2 frames of 64 x 64 pixels"
    with pytest.raises(ParticleDetectError, match=f"{said}; no round was trained"):
        run_round(project, movie[:2], TINY, device="cpu")
    # A project that never recorded its size still says it in one line (it was IndexError: index 2 is out of bounds).
    state = json.loads(project.state_path.read_text())
    project.state_path.write_text(json.dumps({**state, "n_frames": None, "frame_shape": None}))
    with pytest.raises(ParticleDetectError, match="frame 2 is reviewed, but the image to train on has 2 frames; no"):
        run_round(Project.open(project.folder), movie[:2], TINY, device="cpu")
    assert [r.number for r in project.rounds] == [1] and not list((project.folder / "rounds").glob(".building-*"))


def test_a_round_on_other_pixels_of_the_same_size_is_refused(tmp_path, tiny_model):
    movie = _movie(3)
    project = _reviewed(tmp_path, movie, frames=(0, 1, 2), pixels=True)
    _ready_for_a_round(project, tiny_model)
    said = "the image to train on is not the image this project was made for .*other pixels in its first frame.; no"
    with pytest.raises(ParticleDetectError, match=said):
        run_round(Project.open(project.folder), _movie(3, first_seed=12), TINY, device="cpu")
    assert [r.number for r in project.rounds] == [1]


def test_the_dock_refuses_the_project_of_a_replaced_image(make_napari_viewer, light_model, tmp_path):
    import tifffile

    from helpers import make_widget

    path = tmp_path / "cells.tif"
    Project.open(path, n_frames=2, frame_shape=(64, 64)).accept_frame(0, _table(0))
    tifffile.imwrite(path, small_stack(3, 48))  # another image, saved under the same name
    viewer = make_napari_viewer()
    seen = notification_count()
    viewer.open(path, plugin="napari")
    widget = make_widget(viewer, light_model)
    said = [m for m in notifications_since(seen) if "made for an image of 2 frames of 64 x 64 pixels" in m]
    assert said and "'cells.tif' has 3 frames of 48 x 48 pixels" in said[0]
    assert widget.annotation is None and "cells centres" not in viewer.layers  # no centres of the other image


def _volumes(depth: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((2, depth, 32, 32)).astype(np.float32)


def _volume_table(frame: int) -> pd.DataFrame:
    return pd.DataFrame({"frame": frame, "z": [1.0, 3.0], "y": [5.0, 20.0], "x": [6.0, 25.0]})


def test_a_volume_of_another_depth_is_refused_saying_how_many_z_slices(tmp_path):
    from napari_particle_detect.learning.volume_rounds import open_volume_project
    from napari_particle_detect.projects.volume_review import VolumeReview

    volumes = _volumes(depth=8)
    review = VolumeReview(open_volume_project(tmp_path / "v.tif", volumes), volumes.shape[1:])
    review.accept_volume(0, _volume_table(0))
    review.accept_box(1, (0, 0, 10, 10), (-0.5, 3.5), _volume_table(1))  # a 3D box, inside the recorded volume
    state = json.loads(review.project.state_path.read_text())
    for fingerprint in (None, state["fingerprint"]):  # None: a project made before fingerprints was let through
        review.project.state_path.write_text(json.dumps({**state, "fingerprint": fingerprint}))
        with pytest.raises(ParticleDetectError) as refused:
            open_volume_project(tmp_path / "v.tif", _volumes(depth=12))
        message = str(refused.value)
        assert message.startswith(str(tmp_path / "v.volumes.particle-detect")) and "\n" not in message
        assert "'v.tif' has 12 z-slices per volume, this project was made for 8; open it with that image" in message
    # Other pixels of the same depth keep their message; the volumes it was made for open as before.
    with pytest.raises(ParticleDetectError, match=r"'v\.tif' is not the image this project was made for \(the same "
                                                  r"size, 2 volumes of 8 z-slices of 32 x 32 pixels, but other voxels in its first volume"):
        open_volume_project(tmp_path / "v.tif", _volumes(depth=8, seed=1))
    assert open_volume_project(tmp_path / "v.tif", volumes).reviewed_areas() == review.project.reviewed_areas()


def test_a_volume_project_that_recorded_no_depth_does_not_call_another_depth_the_same_size(tmp_path):
    from napari_particle_detect.learning.volume_rounds import open_volume_project

    volumes = _volumes(depth=8)
    project = open_volume_project(tmp_path / "v.tif", volumes)
    project.accept_frame(0, _volume_table(0))
    state = json.loads(project.state_path.read_text())
    project.state_path.write_text(json.dumps({**state, "frame_shape": [32, 32]}))  # as volume projects were made
    with pytest.raises(ParticleDetectError) as refused:
        open_volume_project(tmp_path / "v.tif", _volumes(depth=12))
    assert "'v.tif' is not the image this project was made for (another number of z-slices, or other pixels in " \
           "its first volume; this project did not record its z-slices)" in str(refused.value)
    assert open_volume_project(tmp_path / "v.tif", volumes).reviewed_frames == [0]


# ---- 2. a reviewed frame whose file is gone -----------------------------------------------------------
def test_a_reviewed_frame_without_its_file_is_one_problem_on_opening(tmp_path):
    project = _reviewed(tmp_path, _movie(), frames=(0, 1, 3))
    project.accept_region(2, (0, 0, 10, 10), _table(2))
    for frame in (1, 2):
        project.frame_path(frame).unlink()
    with pytest.warns(UserWarning, match="frame-0001.csv"):
        reopened = Project.open(project.folder)
    assert len(reopened.problems) == 1
    assert reopened.problems[0].startswith(f"{project.folder / 'frames'}: no centres file for reviewed frames 1, 2 "
                                           "(frame-0001.csv, …): their reviewed centres are lost, so rounds leave "
                                           "them out until they are reviewed and accepted again")
    reopened.accept_frame(1, _table(1))
    reopened.unaccept_region(2, (0, 0, 10, 10))
    assert Project.open(project.folder).problems == []


def test_the_dock_says_a_reviewed_frame_lost_its_file(make_napari_viewer, light_model, tmp_path):
    import tifffile

    from helpers import make_widget

    path = tmp_path / "cells.tif"
    tifffile.imwrite(path, small_stack(2, 48))
    project = Project.open(path, n_frames=2, frame_shape=(48, 48))
    for frame in (0, 1):
        project.accept_frame(frame, _table(frame))
    project.frame_path(1).unlink()
    viewer = make_napari_viewer()
    seen = notification_count()
    viewer.open(path, plugin="napari")
    with pytest.warns(UserWarning, match="frame-0001.csv"):
        make_widget(viewer, light_model)
    assert any("1 problem:" in m and "no centres file for reviewed frame 1 (frame-0001.csv)" in m
               for m in notifications_since(seen))


def test_a_round_records_only_the_frames_it_trained_on(tmp_path, tiny_model):
    movie = _movie(4)
    project = _reviewed(tmp_path, movie, frames=(0, 1, 2))
    _ready_for_a_round(project, tiny_model)
    project.frame_path(1).unlink()  # lost while the project is open: no opening reported it
    outcome = run_round(project, movie, TINY, device="cpu")
    project.discard_workspace(outcome.workspace)
    assert outcome.info.trained_frames == [0, 2]  # it said [0, 1, 2], and trained on frames 0 and 2


# ---- 3. a damaged state.json ------------------------------------------------------------------------------
def _three_changes(tmp_path) -> Project:
    project = _reviewed(tmp_path, _movie(), frames=(0, 1))
    project.remember_threshold(0.4)
    return project


def test_every_change_keeps_the_state_before_it_as_a_copy(tmp_path):
    project = Project.open(tmp_path / "img.tif", n_frames=4)
    project.accept_frame(0, _table(0))
    before = project.state_path.read_text()
    project.accept_frame(1, _table(1))
    backup = project.folder / "state.json.bak"
    assert backup.read_text() == before and json.loads(backup.read_text())["accepted"] == [{"frame": 0}]
    assert backup.stat().st_ino != project.state_path.stat().st_ino  # a copy: damage in place does not reach it
    assert oct(backup.stat().st_mode & 0o777) == oct(project.state_path.stat().st_mode & 0o777)
    assert not list(project.folder.glob(".*.tmp"))


def test_a_cut_short_state_goes_back_one_change_and_says_so(tmp_path, capsys):
    from napari_particle_detect.cli.main import main

    project = _three_changes(tmp_path)
    os.truncate(project.state_path, 200)
    with pytest.warns(UserWarning, match="unreadable project state"):
        reopened = Project.open(tmp_path / "img.tif", n_frames=4, frame_shape=(64, 64))
    problem = reopened.problems[0]
    assert problem.startswith(str(project.state_path)) and "went back to the state before its last change" in problem
    assert "state.json.bak" in problem and "state.json.damaged" in problem
    assert reopened.reviewed_frames == [0, 1] and reopened.threshold is None  # only the last change is lost
    assert main(["rounds", str(project.folder)]) == 0  # the CLI reads it as the dock does, and says so in a line
    assert "went back to the state before its last change" in capsys.readouterr().err
    reopened.accept_frame(2, _table(2))  # the next change writes a sound state.json, keeping the damaged one
    assert (project.folder / "state.json.damaged").stat().st_size == 200
    assert json.loads(project.state_path.read_text())["accepted"] == [{"frame": 0}, {"frame": 1}, {"frame": 2}]
    assert json.loads((project.folder / "state.json.bak").read_text())["accepted"] == [{"frame": 0}, {"frame": 1}]
    assert Project.open(project.folder).problems == []


def test_a_damaged_state_without_a_backup_says_what_to_do(tmp_path):
    # It refused, "move the project folder aside to start again", with every frame file intact: the edits are
    # rebuilt from them now, and what could not be (the reviews, the settings) is said in the one line.
    project = Project.open(tmp_path / "img.tif", n_frames=4)
    project.accept_frame(0, _table(0))  # the first save: nothing before it to back up
    project.state_path.write_bytes(project.state_path.read_bytes()[:50])
    with pytest.warns(UserWarning) as said:
        again = Project.open(project.folder)
    message = " ".join(str(w.message) for w in said)
    assert message.startswith(f"{project.state_path}: unreadable project state") and "\n" not in message
    assert "rebuilt from the project's files" in message and "accept it again" in message
    assert len(again.load_frame(0)) == len(_table(0))


def test_a_state_breaking_a_rule_is_refused_naming_the_backup(tmp_path):
    project = _three_changes(tmp_path)
    state = json.loads(project.state_path.read_text())
    project.state_path.write_text(json.dumps({**state, "threshold": 7}))  # an edit by hand: said, not undone
    with pytest.raises(ParticleDetectError, match=r"threshold must be at least 0 and at most 1, got 7; the state "
                                                  r"before its last change is in state\.json\.bak: rename it"):
        Project.open(project.folder)
    project.state_path.write_text(json.dumps({**state, "version": 99}))  # a newer program's: never rolled back
    with pytest.raises(ParticleDetectError, match="made by a newer napari-particle-detect; please upgrade$"):
        Project.open(project.folder)
