"""``evaluate`` of a table without a frame column against one of several frames is refused naming both files, for
centres and volumes as for the kinds (scored, the later frames' truth counted as missed: F1 0.67 of a perfect run)."""

import pytest

from napari_particle_detect.cli.main import main


@pytest.mark.parametrize("columns, rows", [("y,x", ["1,1", "5,5"]), ("z,y,x", ["1,1,1", "2,5,5"])])
def test_evaluate_names_the_frameless_file_and_the_other(tmp_path, capsys, columns, rows):
    predicted, truth = tmp_path / "p.csv", tmp_path / "t.csv"
    predicted.write_text("\n".join([columns, *rows]) + "\n")
    truth.write_text("\n".join([f"frame,{columns}", *(f"{frame},{row}" for frame in (0, 1) for row in rows)]) + "\n")
    assert main(["evaluate", str(predicted), str(truth)]) == 2
    assert capsys.readouterr().err == (
        f"particle-detect: error: {predicted}: no frame column, while {truth} holds 2 frames of an image: it would be "
        "scored as frame 0 and the centres of the other frames as false or missed; give it a frame column (the frame "
        "of each row), or score tables of one frame\n")
