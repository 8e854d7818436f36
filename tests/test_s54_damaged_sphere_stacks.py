"""A sphere stack with one damaged middle frame (a garbled compressed page): detected but for that frame, which is
named once, recorded (``unreadable_frames``) and kept by a run gone on from a stop; sized without a diameter past it
(it is one of the frames the size is read from); refused in one line where it is the one frame asked for, or where
no frame asked for can be read."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import garble_tiff_frames
from napari_particle_detect import detect
from napari_particle_detect.files.io import UnreadableFrameError, read_image
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from test_cli_refusals import run_cli
from test_interrupted_movie_detect import stop_after
from test_s54_stacks_damaged_frames import _damaged_stack

COMMON = ("--device", "cpu", "--threshold", "0.35")


def _spheres(count: int = 8) -> np.ndarray:
    config = benchmark_config("fluorescent", 0.4, shape=(96, 80))
    return np.stack([synthesize(config, seed=seed).image for seed in range(count)]).astype(np.float32)


@pytest.fixture
def damaged(tmp_path) -> Path:
    """An 8-frame stack whose frame 3, the middle one the size estimate reads, no longer decompresses."""
    return _damaged_stack(tmp_path / "movie.tif", _spheres(), damaged=3)


def _record(table: Path) -> dict:
    return json.loads(table.with_suffix(".json").read_text())["inputs"][0]


def test_a_stack_is_sized_and_detected_past_its_damaged_middle_frame_which_is_named_once(damaged, capsys,
                                                                                         light_model):
    out = damaged.with_name("out.csv")
    code, _, err = run_cli(capsys, "detect", damaged, "-o", out, "--model", light_model, *COMMON)
    assert code == 0, err
    assert err.count("cannot read frame 3") == 1
    record = _record(out)
    assert record["unreadable_frames"] == [3] and record["frames_detected"] == [0, 1, 2, 4, 5, 6, 7]
    assert 3 not in record["frames_without_centres"]  # not read again to be found empty
    table = pd.read_csv(out)
    assert 3 not in set(table["frame"])

    truth = damaged.with_name("truth.csv")
    pd.concat([table, table[table["frame"] == 0].assign(frame=3)]).to_csv(truth, index=False)
    code, _, err = run_cli(capsys, "evaluate", out, truth)
    assert code == 0, err
    # Scored against frame 3's truth, the damaged frame read as every particle missed.
    assert "(frame 3 unreadable): the truth's frame 3 left out" in err


def test_a_run_stopped_after_the_damaged_frame_goes_on_and_still_records_it(damaged, capsys, monkeypatch,
                                                                            light_model):
    common = ("--model", light_model, *COMMON, "--diameter", "9")
    whole, out = damaged.with_name("whole.csv"), damaged.with_name("out.csv")
    assert run_cli(capsys, "detect", damaged, "-o", whole, *common)[0] == 0
    with monkeypatch.context() as patch:
        stop_after(patch, 5, KeyboardInterrupt())
        assert run_cli(capsys, "detect", damaged, "-o", out, *common)[0] == 130
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["inputs"][0]["unreadable_frames"] == [3] and 3 not in meta["inputs"][0]["frames_detected"]
    assert meta["resume"][0]["unreadable_frames"] == [3]

    code, _, err = run_cli(capsys, "detect", damaged, "-o", out, *common)
    assert code == 0, err
    assert _record(out)["unreadable_frames"] == [3] == _record(whole)["unreadable_frames"]
    assert out.read_text() == whole.read_text()


def _garble(path: Path, frame: int) -> None:
    """Frame ``frame`` of the compressed TIFF stack at ``path`` garbled, as ``_damaged_stack`` garbles one."""
    garble_tiff_frames(path, [frame])


def test_the_one_frame_asked_for_or_every_one_unreadable_is_refused_in_one_line(damaged, capsys, light_model):
    out = damaged.with_name("out.csv")
    code, _, err = run_cli(capsys, "detect", damaged, "-o", out, "--model", light_model, *COMMON, "--frames", "3")
    assert code != 0 and len(err.strip().splitlines()) == 1 and "cannot read frame 3" in err
    _garble(damaged, 5)
    code, _, err = run_cli(capsys, "detect", damaged, "-o", out, "--model", light_model, *COMMON,
                           "--frames", "3,5", "--diameter", "9")
    assert code != 0
    assert err.strip().splitlines()[-1] == (f"particle-detect: error: {damaged}: none of the 2 frames asked for can "
                                            "be read (frames 3, 5): nothing detected")
    assert not out.exists() and not out.with_suffix(".json").exists()


def test_detect_skips_an_unreadable_frame_of_a_lazy_stack_and_lists_it(damaged, light_model):
    with read_image(damaged, lazy=True) as stack:
        table = detect(stack, light_model, device="cpu", threshold=0.35)
        assert table.attrs["unreadable_frames"] == [3] and 3 not in set(table["frame"])
        with pytest.raises(UnreadableFrameError, match="cannot read frame 3"):
            detect(stack, light_model, device="cpu", threshold=0.35, frames=[3])
