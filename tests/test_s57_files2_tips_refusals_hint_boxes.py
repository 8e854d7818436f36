"""A table of y1, x1, y2, x2 alone refused as the rods table it reads as says, as evaluate does, how to read it as
boxes' corners instead: train's and evaluate --kind's refusals did not."""

import numpy as np
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.kinds.columns import BOXES_HINT


@pytest.fixture
def tips(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    tifffile.imwrite(folder / "a.tif", np.random.default_rng(0).random((64, 64)).astype(np.float32))
    (folder / "a.csv").write_text("y1,x1,y2,x2\n10,10,20,30\n40,40,50,60\n")
    return folder


@pytest.mark.parametrize("command", [
    ["train", "{data}", "-o", "{out}", "--epochs", "1"],
    ["train", "{data}", "-o", "{out}", "--epochs", "1", "--kind", "chains"],
    ["evaluate", "{data}/a.csv", "{data}/a.csv", "--kind", "chains"],
], ids=["train", "train-chains", "evaluate-chains"])
def test_a_tips_table_refused_as_rods_says_how_to_read_boxes(tmp_path, capsys, tips, command):
    argv = [part.format(data=tips, out=tmp_path / "model") for part in command]
    code = main(["-q", *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "give --kind rods" in err and err.rstrip().endswith(f"; {BOXES_HINT}"), err
    assert not list(tmp_path.glob("model*"))
