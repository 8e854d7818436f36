"""3D human in the loop (issue 20, item 5): volumes and 3D boxes accepted into a project (z kept,
undo), a masked 3D round with held-out cubes and the honest verdict, cancel, review-next, and the
round through ``train --from MODEL --axes ZYX``."""

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile
import torch

from napari_particle_detect.cli.main import main
from napari_particle_detect.cli.volumes import load_volume_examples
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.models.registry import default_model_path
from napari_particle_detect.projects.project import Project
from napari_particle_detect.projects.project_state import make_region
from napari_particle_detect.learning.training import TrainingCancelled
from napari_particle_detect.learning.volume_finetune import CropSource, VolumeRoundConfig, split_volume, volume_example
from napari_particle_detect.learning.volume_rounds import (
    VolumeSettings, ensure_volume_round, open_volume_project, project_volume_examples, rank_volume_areas,
    read_settings, remember_settings, train_volume_round,
)
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

TINY = VolumeRoundConfig(steps=3, batch_size=2, crop=16, threads=1)


@pytest.fixture(scope="module")
def sample():
    return synthesize_volume(VolumeConfig(shape=(16, 48, 48), volume_fraction=0.3), seed=3)


def table_of(sample, source="model"):
    c = sample.centres
    return pd.DataFrame({"z": c[:, 0], "y": c[:, 1], "x": c[:, 2], "score": 0.9, "source": source})


def test_volume_and_3d_box_are_saved_with_z_and_undone(tmp_path, sample):
    project = open_volume_project(tmp_path / "v.tif", sample.image)
    table = table_of(sample)
    region = make_region(0, (-0.5, -0.5, 20, 20), z_range=(2, 9))
    project.accept_region(0, region, table)
    assert project.folder.name == "v.volumes.particle-detect"  # apart from the 2D dock's v.particle-detect
    again = Project.open(project.folder)  # from disk, as a new window would read it
    assert again.regions() == [region] and again.regions()[0].z_range == (2.0, 9.0)
    saved = again.load_frame(0)
    assert list(saved.columns[:4]) == ["frame", "z", "y", "x"]
    inside = region.contains(table["y"], table["x"], table["z"])
    assert 0 < inside.sum() < len(table)
    assert (saved["source"] == "accepted").sum() == inside.sum()  # only points inside the box in z too
    project.accept_frame(0, saved)
    assert again.reviewed_frames == [0]
    project.unaccept_frame(0)
    project.unaccept_region(0, region)
    assert again.reviewed_areas() == []
    with pytest.raises(ParticleDetectError, match="z range 9, 2"):
        make_region(0, (0, 0, 5, 5), z_range=(9, 2))
    assert not list(project.folder.rglob("*.tmp"))


def test_a_box_teaches_only_inside_and_held_out_cubes_are_never_trained_on(tmp_path, sample):
    project = open_volume_project(tmp_path / "v.tif", sample.image)
    remember_settings(project, VolumeSettings((5.0, 10.0, 10.0), (2.0, 1.0, 1.0), sample.image.shape))
    assert read_settings(project).voxel_size == (2.0, 1.0, 1.0)
    project.accept_region(0, make_region(0, (-0.5, -0.5, 23.5, 47.5), z_range=(-0.5, 15.5)), table_of(sample))
    [example] = project_volume_examples(project, sample.image, (5.0, 10.0, 10.0), 6.0)
    assert example.area.any() and not example.area.all()
    assert example.area[:, : example.area.shape[1] // 2 - 1].all() and not example.area[:, -1].any()
    split = split_volume(example, 6.0)
    assert split.held_area.any() and not (split.held_area & ~example.area).any()
    assert not (split.train_area & split.held_area).any() and not (split.train_area & ~example.area).any()
    # The loss weights are zero outside the training area, through every flip and transpose.
    area = np.zeros((24, 24, 24), bool)
    area[4:14, 6:20, 2:12] = True
    source = CropSource([volume_example(area.astype(np.float32), np.zeros((0, 3)), "a")], [area], [np.zeros((0, 3))],
                        VolumeRoundConfig(batch_size=6, crop=16), 1.2)
    x, _, w = source.batch()
    assert torch.equal(w > 0, x > 0.5)


def test_a_round_is_recorded_with_its_verdict_and_cancel_leaves_the_project_as_it_was(tmp_path, sample):
    torch.set_num_threads(1)
    project = open_volume_project(tmp_path / "v.tif", sample.image)
    with pytest.raises(ParticleDetectError, match="run Detect first"):
        train_volume_round(project, sample.image, TINY)
    ensure_volume_round(project)
    remember_settings(project, VolumeSettings((5.0, 10.0, 10.0), None, sample.image.shape))
    with pytest.raises(ParticleDetectError, match="accept at least one"):
        train_volume_round(project, sample.image, TINY)
    project.accept_frame(0, table_of(sample))
    with pytest.raises(TrainingCancelled):
        train_volume_round(project, sample.image, TINY, cancel=lambda: True)
    assert [r.number for r in project.rounds] == [1] and not project.leftover_workspaces()
    assert not list((project.folder / "rounds").glob(".building-*"))
    events = []
    info = train_volume_round(project, sample.image, TINY, progress=events.append)
    assert info.number == 2 and info.parent == 1 and info.held_out >= 1 and info.trained_frames == [0]
    assert info.f1 is not None and info.parent_f1 is not None
    assert (project.current_round.number == 2) is bool(info.improved)  # switched in only when strictly better
    assert {"preparing", "scoring", "training", "done"} <= {e["phase"] for e in events}
    assert (project.folder / "rounds" / "round-002" / "model.pt").is_file()


def _folder_contents(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", ["other voxels", "another depth", "another size", "more volumes"])
@pytest.mark.parametrize("opened", ["by folder", "with its volumes"])
def test_a_round_on_volumes_the_project_was_not_made_for_is_refused_with_nothing_written(tmp_path, sample, case,
                                                                                         opened):
    # Was trained anyway: the reviewed centres learnt over the voxels of other volumes.
    project = open_volume_project(tmp_path / "v.tif", sample.image)
    ensure_volume_round(project)
    remember_settings(project, VolumeSettings((5.0, 10.0, 10.0), None, sample.image.shape))
    project.accept_frame(0, table_of(sample))
    rng = np.random.default_rng(1)
    wrong = {"other voxels": sample.image[::-1].copy(),
             "another depth": np.concatenate([sample.image, sample.image[:4]]),
             "another size": sample.image[:, :40, :40],
             "more volumes": np.stack([sample.image, rng.random(sample.image.shape, np.float32)])}[case]
    expected = {"other voxels": "is not the image this project was made for",
                "another depth": "the image to train on has 20 z-slices per volume, this project was made for 16",
                "another size": "but the image to train on has 1 volume of 16 z-slices of 40 x 40 pixels",
                "more volumes": "but the image to train on has 2 volumes of 16 z-slices"}[case]
    # A script or the command line opens the project by its folder; the dock with the volumes shown.
    opened_again = Project.open(project.folder) if opened == "by folder" else open_volume_project(project.folder,
                                                                                                 sample.image)
    before = _folder_contents(project.folder)
    with pytest.raises(ParticleDetectError) as refused:
        train_volume_round(opened_again, wrong, TINY)
    message = str(refused.value)
    assert message.startswith(f"{project.folder}: ") and expected in message and "no round was trained" in message
    assert "\n" not in message
    assert _folder_contents(project.folder) == before and not project.leftover_workspaces()
    assert [r.number for r in Project.open(project.folder).rounds] == [1]


def test_review_next_ranks_unreviewed_volumes_and_boxes_by_hesitation(tmp_path, sample):
    volumes = np.stack([sample.image] * 3)
    project = open_volume_project(tmp_path / "t.tif", volumes)
    remember_settings(project, VolumeSettings((4.0, 8.0, 8.0), None, sample.image.shape))
    sure, unsure = table_of(sample).assign(score=0.95), table_of(sample).assign(score=0.5)
    for frame, table in enumerate((sure, unsure, unsure)):
        project.save_frame(frame, table)
    project.accept_frame(2, unsure)
    ranked = rank_volume_areas(project, sample.image.shape, 0.5, boxes=False)
    assert [p.frame for p in ranked] == [1, 0] and ranked[0].hesitant == len(sample.centres)
    boxes = rank_volume_areas(project, sample.image.shape, 0.5)
    assert boxes and all(p.frame == 1 for p in boxes) and boxes[0].box is not None
    first = boxes[0].box
    project.accept_region(1, make_region(1, (first[1], first[2], first[4], first[5]), z_range=(first[0], first[3])),
                          unsure)
    assert first not in [p.box for p in rank_volume_areas(project, sample.image.shape, 0.5)]


def test_train_from_a_3d_model_with_axes_zyx_runs_a_round(tmp_path, sample, capsys):
    torch.set_num_threads(1)
    tifffile.imwrite(tmp_path / "vol.tif", sample.image)
    c = sample.centres
    pd.DataFrame({"frame": 0, "z": c[:, 0], "y": c[:, 1], "x": c[:, 2]}).to_csv(tmp_path / "vol.csv", index=False)
    shipped = default_model_path("unet3d")
    out = tmp_path / "tuned"
    code = main(["train", str(tmp_path / "vol.tif"), "--from", str(shipped), "--axes", "ZYX", "--diameter", "10",
                 "--voxel-size", "2", "1", "1", "-o", str(out), "--steps-per-epoch", "3", "--batch-size", "2",
                 "--crop", "16", "--threads", "1"])
    assert code == 0 and out.with_suffix(".pt").is_file() and out.with_suffix(".json").is_file()
    err = capsys.readouterr().err
    assert "on 1 held-out 3D tile:" in err  # one volume: one held-out tile, said in the singular
    bars = re.split(r"[\r\n]+", err)  # the progress bar's states: each names the phase under way
    assert [b for b in bars if "loss=" in b] and all(b.startswith(("training:", "done:")) for b in bars if "loss=" in b)
    # Quiet: no bar (a disabled one has no label to compare: the round crashed before its first step).
    quiet = main(["-q", "train", str(tmp_path / "vol.tif"), "--from", str(shipped), "--axes", "ZYX", "--diameter",
                  "10", "--voxel-size", "2", "1", "1", "-o", str(tmp_path / "quiet"), "--steps-per-epoch", "2",
                  "--batch-size", "2", "--crop", "16", "--threads", "1"])
    assert quiet == 0 and (tmp_path / "quiet.pt").is_file()


@pytest.mark.parametrize("case", ["no from", "2d model", "2d image", "no z", "another volume's centres"])
def test_bad_3d_round_input_is_one_line_and_nothing_written(tmp_path, sample, capsys, case):
    image = tmp_path / "vol.tif"
    tifffile.imwrite(image, sample.image if case != "2d image" else sample.image[0])
    c = sample.centres
    table = pd.DataFrame({"frame": 0, "z": c[:, 0], "y": c[:, 1], "x": c[:, 2]})
    if case == "another volume's centres":  # a deeper volume's table beside this file: none of its centres is here
        table["z"] += sample.image.shape[0]
    table.drop(columns=["z"] if case == "no z" else []).to_csv(tmp_path / "vol.csv", index=False)
    model = {"no from": None, "2d model": default_model_path("unet")}.get(case, default_model_path("unet3d"))
    args = ["train", str(image), "--axes", "ZYX", "-o", str(tmp_path / "m"), "--steps-per-epoch", "2"]
    code = main(args + (["--from", str(model)] if model else []))
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1, err
    expected = {"no from": "give --from MODEL", "2d model": "a 2D model", "2d image": "the image has 2",
                "no z": "needs a z column",
                "another volume's centres": f"vol.csv: its {len(c)} centres all lie outside the 16x48x48 (z, y, x) "
                                            "volume"}[case]
    assert expected in err[0]
    assert not list(Path(tmp_path).glob("m*"))


def test_a_volume_table_with_centres_beyond_its_volume_says_how_many_are_ignored(tmp_path, sample, caplog):
    # A cropped volume beside its uncropped table: the centres beyond the crop were dropped without a word.
    tifffile.imwrite(tmp_path / "vol.tif", sample.image[:, :24])
    c = sample.centres
    pd.DataFrame({"frame": 0, "z": c[:, 0], "y": c[:, 1], "x": c[:, 2]}).to_csv(tmp_path / "vol.csv", index=False)
    beyond = int((c[:, 1] >= 23.5).sum())
    assert 0 < beyond < len(c)
    with caplog.at_level(logging.WARNING, logger="particle-detect"):
        [example] = load_volume_examples([tmp_path / "vol.tif"], "ZYX", 6.0, 10.0, (2.0, 1.0, 1.0))
    assert f"vol.csv: {beyond} of its {len(c)} centres lie outside the 16x24x48 (z, y, x) volume" in caplog.text
    assert example.image.ndim == 3


def test_a_dock_export_trains_only_its_reviewed_volumes(tmp_path, sample, caplog):
    # The loader ignored source: volume 1, the model's detections nobody reviewed, was trained as truth.
    tifffile.imwrite(tmp_path / "vol.tif", np.stack([sample.image, sample.image]))
    c = sample.centres
    reviewed = pd.DataFrame({"frame": 0, "z": c[:, 0], "y": c[:, 1], "x": c[:, 2], "source": "accepted"})
    pd.concat([reviewed, reviewed.assign(frame=1, source="model")]).to_csv(tmp_path / "vol.csv", index=False)
    with caplog.at_level(logging.WARNING, logger="particle-detect"):
        examples = load_volume_examples([tmp_path / "vol.tif"], "TZYX", 6.0, 10.0, (2.0, 1.0, 1.0))
    assert [e.name for e in examples] == ["vol.tif volume 0"]
    assert "frame 1 left out: never reviewed" in caplog.text
    reviewed.assign(source="model").to_csv(tmp_path / "vol.csv", index=False)
    with pytest.raises(ParticleDetectError, match=r"vol\.csv: no frame of it was reviewed"):
        load_volume_examples([tmp_path / "vol.tif"], "TZYX", 6.0, 10.0, (2.0, 1.0, 1.0))


def test_damaged_volume_settings_and_z_ranges_are_one_clear_line(tmp_path, sample):
    project = open_volume_project(tmp_path / "v.tif", sample.image)
    remember_settings(project, VolumeSettings((5.0, 10.0, 10.0), None, sample.image.shape))
    (project.folder / "volume.json").write_text('{"diameter": [5, -1, 10]}')
    with pytest.raises(ParticleDetectError, match=r"volume\.json: diameter must be above 0"):
        read_settings(project)
    project.accept_region(0, make_region(0, (0, 0, 10, 10), z_range=(1, 4)), table_of(sample))
    state = project.state_path.read_text().replace('"z": [\n        1.0,\n        4.0\n      ]', '"z": [4, "x"]')
    project.state_path.write_text(state)
    with pytest.raises(ParticleDetectError, match=r"state\.json: accepted\[0\]\.z must be a number"):
        Project.open(project.folder)


def test_detect_for_review_keeps_the_shown_centres_and_hides_the_near_misses(sample):
    from napari_particle_detect.detection.volume_detection import VolumeOptions, detect_volume, load_volume_model
    from napari_particle_detect.projects.volume_review import detect_for_review

    model = load_volume_model(None)
    options = VolumeOptions(threshold=0.6, diameter=(4.0, 8.0, 8.0), threads=1)
    centres, scores, _ = detect_volume(sample.image, model, options)
    shown, hidden, _ = detect_for_review(sample.image, model, options, frame=2)
    assert np.allclose(shown[["z", "y", "x"]].to_numpy(), centres) and np.allclose(shown["score"], scores)
    assert len(hidden) and (hidden["score"] <= 0.6).all() and (hidden["score"] > 0.4).all()
    assert (shown["frame"] == 2).all() and (hidden["frame"] == 2).all()


def test_review_next_weighs_hidden_candidates_under_the_threshold(tmp_path, sample):
    from napari_particle_detect.projects.volume_review import HIDDEN_FILE, VolumeReview

    volumes = np.stack([sample.image] * 2)
    project = open_volume_project(tmp_path / "t.tif", volumes)
    remember_settings(project, VolumeSettings((4.0, 8.0, 8.0), None, sample.image.shape))
    sure = table_of(sample).assign(score=0.95)
    project.save_frame(0, sure)
    project.save_frame(1, sure.iloc[:-3])  # volume 1 shows all but three, which scored just under
    review = VolumeReview(project, sample.image.shape)
    assert review.next_area(0.5, boxes=False).hesitant == 0  # nothing hesitant on screen
    missed = table_of(sample).iloc[-3:].assign(frame=1, score=0.45)
    settled = table_of(sample).iloc[:2].assign(frame=0, score=0.45)  # under points already shown
    review.remember_hidden(pd.concat([missed, settled])[["frame", "z", "y", "x", "score"]])
    review = VolumeReview(project, sample.image.shape)
    first, second = review.next_area(0.5, boxes=False), review.next_area(0.5, boxes=False)
    assert (first.frame, first.hesitant) == (1, 3)
    assert (second.frame, second.hesitant) == (0, 0)  # volume 0's near misses sit on shown centres
    assert review.next_area(0.5).box is not None  # boxes too: the missed three's
    (project.folder / HIDDEN_FILE).write_text("frame,z,y\n0,1,2\n")
    with pytest.raises(ParticleDetectError, match=HIDDEN_FILE):
        review.next_area(0.5, boxes=False)


def test_detect_again_keeps_a_volumes_edits_one_undo_away(tmp_path, sample):
    from napari_particle_detect.projects.volume_review import Redetection, VolumeReview

    volumes = np.stack([sample.image] * 2)
    project = open_volume_project(tmp_path / "t.tif", volumes)
    review = VolumeReview(project, sample.image.shape)
    found = pd.concat([table_of(sample).assign(frame=f) for f in (0, 1)], ignore_index=True)
    review.set_detections(found, [0, 1])
    edited = pd.concat([project.load_frame(0).iloc[1:], table_of(sample, "added").iloc[:1].assign(z=1.5)])
    assert review.save_edits(0, edited) and not review.save_edits(1, project.load_frame(1))  # 1: no change
    again = found.assign(score=0.8)
    table, replaced, kept = review.set_detections(again, [0, 1])
    assert not kept  # shown: edits are replaced one undo away, never kept back
    assert replaced == [0] and set(table["score"]) == {0.8}  # volume 1 was not edited: nothing kept of it
    undone = review.undo()
    assert isinstance(undone, Redetection) and undone.frame == 0
    pd.testing.assert_frame_equal(project.load_frame(0), normalise(edited, 0))
    assert project.reviewed_areas() == [] and review.undo() is None
    # Points placed by hand, on disk from an earlier session, are edits too.
    table, replaced, _ = VolumeReview(project, sample.image.shape).set_detections(again, [0])
    assert replaced == [0]
    review.set_detections(found.assign(score=0.7), [1])  # a volume left out (a blank one skipped) is not touched
    assert set(project.load_frame(0)["score"]) == {0.8}


def normalise(table, frame):
    from napari_particle_detect.files.tables import normalise_table

    return normalise_table(table, frame)


def test_a_voxel_size_not_in_micrometres_labels_nothing_as_micrometres(tmp_path, sample):
    from napari_particle_detect.projects.volume_review import VolumeReview

    project = open_volume_project(tmp_path / "v.tif", sample.image)
    project.save_frame(0, table_of(sample))
    review = VolumeReview(project, sample.image.shape)
    remember_settings(project, VolumeSettings((5.0, 10.0, 10.0), (2.0, 1.0, 1.0), sample.image.shape, "pixel"))
    assert read_settings(project).voxel_unit == "pixel" and read_settings(project).voxel_um is None
    assert "z_um" not in pd.read_csv(review.export(tmp_path / "a.csv")).columns
    remember_settings(project, VolumeSettings((5.0, 10.0, 10.0), (0.2, 0.1, 0.1), sample.image.shape))
    exported = pd.read_csv(review.export(tmp_path / "b.csv"))
    np.testing.assert_allclose(exported["x_um"], exported["x"] * 0.1, atol=1e-4)


def test_rounds_finds_the_volumes_project_beside_its_image(tmp_path, sample, capsys):
    image = tmp_path / "conf.tif"
    tifffile.imwrite(image, sample.image)
    ensure_volume_round(open_volume_project(image, sample.image))
    assert main(["rounds", str(image)]) == 0
    assert "001    shipped" in capsys.readouterr().out
    # The same file reviewed as 2D frames too: which one is meant is asked, in one line.
    frames = Project.open(tmp_path / "conf.particle-detect", image=str(image), n_frames=16, frame_shape=(48, 48))
    frames.save_frame(0, table_of(sample).drop(columns="z"))
    assert main(["rounds", str(image)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"particle-detect: error: {image}: has spheres and volumes projects; give the project folder "
                   f"({frames.folder}, {tmp_path / 'conf.volumes.particle-detect'})"]
    assert main(["rounds", str(tmp_path / "conf.volumes.particle-detect")]) == 0


def test_review_next_boxes_name_real_slices_and_are_no_slivers(tmp_path, sample):
    # A 32-slice volume gave 'z 23-32' (slice 32 does not exist) and a 4-voxel box 'y 92-96' at the far edge.
    shape = (32, 96, 96)
    project = open_volume_project(tmp_path / "t.tif", np.zeros((1, *shape), np.float32))
    remember_settings(project, VolumeSettings((2.0, 4.4, 4.4), None, shape))  # boxes of 10, 22, 22 voxels
    rng = np.random.default_rng(0)
    points = rng.uniform((0, 0, 0), np.array(shape) - 1, size=(400, 3))
    project.save_frame(0, pd.DataFrame({"frame": 0, "z": points[:, 0], "y": points[:, 1], "x": points[:, 2],
                                        "score": 0.5, "source": "model"}))
    boxes = [p.box for p in rank_volume_areas(project, shape, 0.5)]
    widths = np.array([[b[3] - b[0], b[4] - b[1], b[5] - b[2]] for b in boxes])
    assert widths.min(axis=0).tolist() >= [10, 22, 22]  # the far edge joins the last box
    assert max(b[3] for b in boxes) == 31.5 and max(b[4] for b in boxes) == 95.5
    last = max(rank_volume_areas(project, shape, 0.5), key=lambda p: p.box[3])
    assert ", z 20-31, " in last.why  # the last slice, as the dock's z boxes say it (was 'z 20-32')
