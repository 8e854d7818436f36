"""A stack's rods or chains table without a frame column (rows of every frame) was taught as frame 0's: the kind's
check_table numbers such a table frame 0 before the training loader looked, so the refusal spheres get never came.
Refused in the same line, naming the table and the stack."""

import re

import pandas as pd
import pytest

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.kinds_training import load_kind_examples


def _stack(folder, kind):
    assert main(["synth", str(folder), "--kind", kind, "--n", "3", "--shape", "64", "64", "--stack", "-q"]) == 0
    return folder / "stack.tif"


@pytest.mark.parametrize("kind", ["rods", "chains"])
def test_a_stacks_kind_table_without_a_frame_column_is_refused(tmp_path, capsys, kind):
    stack = _stack(tmp_path / "data", kind)
    table = pd.read_csv(stack.with_suffix(".csv"))
    assert sorted(set(table["frame"])) == [0, 1, 2]
    table.drop(columns="frame").to_csv(stack.with_suffix(".csv"), index=False)
    said = (f"{stack.with_suffix('.csv')}: no frame column, while stack.tif holds 3 frames: its {len(table)} rows "
            "would be taught as frame 0's; give it a frame column")
    with pytest.raises(ParticleDetectError, match=re.escape(said)):
        load_kind_examples([stack.parent], kind)
    capsys.readouterr()
    assert main(["train", "--kind", kind, str(stack.parent), "-o", str(tmp_path / "m.pt"), "-q"]) == 2
    assert said in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["rods", "chains"])
def test_a_kind_table_with_its_frames_or_of_one_frame_still_trains(tmp_path, kind):
    stack = _stack(tmp_path / "stack", kind)
    table = pd.read_csv(stack.with_suffix(".csv"))
    assert [len(rows) for _, rows in load_kind_examples([stack], kind)] == [
        int((table["frame"] == frame).sum()) for frame in (0, 1, 2)]
    assert main(["synth", str(tmp_path / "one"), "--kind", kind, "--n", "1", "--shape", "64", "64", "-q"]) == 0
    image = next((tmp_path / "one").glob("*.tif"))
    written = pd.read_csv(image.with_suffix(".csv"))
    written.drop(columns="frame", errors="ignore").to_csv(image.with_suffix(".csv"), index=False)
    (example,) = load_kind_examples([image], kind)
    assert len(example[1]) == len(written) and set(example[1]["frame"]) <= {0}
