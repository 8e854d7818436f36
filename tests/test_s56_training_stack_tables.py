"""A stack's truth table without a frame column (y,x rows of every frame) was taught as frame 0's truth: a round then
learned the other frames' particles where frame 0 has none, the mistake shown only as the starting model scoring
held-out F1 near 0. Refused in one line naming the table and the stack, as evaluate refuses such a table."""

import re

import pandas as pd
import pytest

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.training import load_examples


@pytest.fixture
def stack(tmp_path):
    """A 3-frame synthetic stack beside its truth (frame,y,x)."""
    assert main(["synth", str(tmp_path / "data"), "--n", "3", "--shape", "64", "64", "--radius", "4", "6",
                 "--stack", "-q"]) == 0
    return tmp_path / "data" / "stack.tif"


def test_a_stacks_table_without_a_frame_column_is_refused(stack, capsys):
    table = pd.read_csv(stack.with_suffix(".csv"))
    assert sorted(set(table["frame"])) == [0, 1, 2]
    table[["y", "x"]].to_csv(stack.with_suffix(".csv"), index=False)
    said = (f"{stack.with_suffix('.csv')}: no frame column, while stack.tif holds 3 frames: its {len(table)} rows "
            "would be taught as frame 0's; give it a frame column")
    with pytest.raises(ParticleDetectError, match=re.escape(said)):
        load_examples([stack.parent], 15.0)
    assert main(["train", "--from", "unet", str(stack.parent), "-o", str(stack.parent / "m.pt"), "-q"]) == 2
    assert said in capsys.readouterr().err


def test_a_stacks_table_with_its_frames_still_trains_each_frame(stack):
    examples = load_examples([stack], 15.0)
    assert [example.name for example in examples] == ["stack.tif[0]", "stack.tif[1]", "stack.tif[2]"]
