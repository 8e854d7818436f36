"""detect FOLDER -o OUT/ as a user meets it: a volume whose output another run holds is done after the others, not
waited for first; the record of a run into the folder that ended while this one loaded its model is kept; bool
volumes and RGBA TIFFs read as their 2D counterparts are; --overlay's help says which frame it draws."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile

from napari_particle_detect.cli import main as main_module
from napari_particle_detect.cli import volumes as volume_cli
from napari_particle_detect.cli.main import build_parser, main
from napari_particle_detect.detection import volume_detection
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.distributed import RUN_RECORD
from napari_particle_detect.files.io import read_image

from helpers import tiny_model_file
from test_distributed import write_images
from test_volume_folder_failures import DETECT, SMALL, write_volume
# Another run's hold on one output: a run that waits on the held output first never writes the other one.
from test_s53_runs_records_and_addresses import HOLD, HOLD_S


def test_a_volume_folder_run_does_other_volumes_first_while_another_run_holds_one_output(tmp_path, project_home,
                                                                                        monkeypatch):
    inputs = [write_volume(tmp_path / f"{name}.tif", seed) for seed, name in enumerate("ab", start=1)]
    out = tmp_path / "out"
    held = tmp_path / "held"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out / "a.csv"), str(held), str(out / "b.json"),
                               str(HOLD_S)])
    detect_one = volume_cli._detect_one_volume_file
    order: list[str] = []

    def noting_the_order(path, *args, **kwargs):
        order.append(Path(path).name)
        return detect_one(path, *args, **kwargs)

    monkeypatch.setattr(volume_cli, "_detect_one_volume_file", noting_the_order)
    try:
        deadline = time.monotonic() + 60
        while not held.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        start = time.monotonic()
        code = main(["-q", "detect", *map(str, inputs), "--axes", "ZYX", "-o", f"{out}/", *DETECT])
        took = time.monotonic() - start
    finally:
        holder.wait(timeout=60)
    assert code == 0
    assert order == ["b.tif", "a.tif"]  # it used to wait on a.tif until the other run let go, b.tif behind it
    assert took < HOLD_S
    record = json.loads((out / RUN_RECORD).read_text())
    assert [entry["output"] for entry in record["done"]] == ["a.csv", "b.csv"]  # in the inputs' order


def test_a_volume_folder_run_keeps_the_record_of_a_run_that_ended_while_its_model_loaded(tmp_path, project_home,
                                                                                        monkeypatch):
    inputs = [write_volume(tmp_path / f"{name}.tif", seed) for seed, name in enumerate("ab", start=1)]
    out = tmp_path / "out"
    load = volume_detection.load_volume_model
    other_ran: list[int] = []

    def another_run_ends_meanwhile(*args, **kwargs):
        if not other_ran:  # a second terminal's run of the other volume into the same folder
            other_ran.append(None)  # the other run loads its model too
            other_ran[0] = main(["-q", "detect", str(inputs[1]), "--axes", "ZYX", "-o", f"{out}/", *DETECT])
        return load(*args, **kwargs)

    monkeypatch.setattr(volume_detection, "load_volume_model", another_run_ends_meanwhile)
    assert main(["-q", "detect", str(inputs[0]), "--axes", "ZYX", "-o", f"{out}/", *DETECT]) == 0
    assert other_ran == [0]
    record = json.loads((out / RUN_RECORD).read_text())
    assert [entry["output"] for entry in record["done"]] == ["a.csv"]
    [other] = record["concurrent_runs"]
    assert [entry["output"] for entry in other["done"]] == ["b.csv"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("tiny"))


def test_a_2d_folder_run_keeps_the_record_of_a_run_that_ended_while_its_model_loaded(tmp_path, project_home,
                                                                                    tiny_model, monkeypatch):
    paths = write_images(tmp_path / "images", 2)
    out = tmp_path / "out"
    detect = ["--model", str(tiny_model), "--device", "cpu", "--diameter", "12", "--threshold", "0"]
    load = main_module._load_model_first
    other_ran: list[int] = []

    def another_run_ends_meanwhile(*args, **kwargs):
        if not other_ran:
            other_ran.append(None)  # the other run loads its model too
            other_ran[0] = main(["-q", "detect", str(paths[1]), "-o", f"{out}/", *detect])
        return load(*args, **kwargs)

    monkeypatch.setattr(main_module, "_load_model_first", another_run_ends_meanwhile)
    assert main(["-q", "detect", str(paths[0]), "-o", f"{out}/", *detect]) == 0
    assert other_ran == [0]
    record = json.loads((out / RUN_RECORD).read_text())
    assert [entry["output"] for entry in record["done"]] == ["image_00.csv"]
    [other] = record["concurrent_runs"]
    assert [entry["output"] for entry in other["done"]] == ["image_01.csv"]


def test_a_bool_volume_is_detected_as_zeros_and_ones(tmp_path, project_home):
    from napari_particle_detect.synthetic.volumes import synthesize_volume

    volume = synthesize_volume(SMALL, seed=3).image
    mask = tmp_path / "mask.tif"
    tifffile.imwrite(mask, volume > np.percentile(volume, 70), metadata={"axes": "ZYX"})
    assert tifffile.imread(mask).dtype == bool
    out = tmp_path / "mask.csv"
    assert main(["-q", "detect", str(mask), "-o", str(out), *DETECT]) == 0  # was 'unsupported voxel type bool'
    assert out.read_text().startswith("frame,z,y,x")


def test_an_rgba_tiff_offers_its_colours_not_its_alpha(tmp_path):
    rgba = np.random.default_rng(0).integers(0, 255, (40, 48, 4), dtype=np.uint8)
    path = tmp_path / "rgba.tif"
    tifffile.imwrite(path, rgba, photometric="rgb", extrasamples=["unassalpha"])
    with pytest.raises(ParticleDetectError, match=r"an RGBA image .*3 colours and alpha per pixel.*N from 0 to 2,"):
        read_image(path)
    with pytest.raises(ParticleDetectError, match=r"channel=3 .*has 3 channels \(0-2\) \(RGBA: its alpha channel"):
        read_image(path, channel=3)
    np.testing.assert_array_equal(read_image(path, channel=2), rgba[..., 2])


def test_an_rgb_tiff_without_alpha_still_offers_every_sample(tmp_path):
    path = tmp_path / "rgb.tif"
    tifffile.imwrite(path, np.zeros((40, 48, 4), np.uint8), photometric="rgb", extrasamples=["unspecified"])
    with pytest.raises(ParticleDetectError, match=r"RGB\(A\) image .*4 samples per pixel.*N from 0 to 3,"):
        read_image(path)


def test_the_overlay_help_says_it_draws_the_first_frame_detected():
    detect = next(action for action in build_parser()._subparsers._group_actions[0].choices.values()
                  if any("--overlay" in a.option_strings for a in action._actions))
    [overlay] = [a for a in detect._actions if "--overlay" in a.option_strings]
    assert "first frame detected" in overlay.help and "--frames" in overlay.help
