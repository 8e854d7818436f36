"""synth said 'wrote 3 image(s) with 33 centres' of the one stack.tif it wrote with --stack, and 'image(s)' of one
image: the line names a stack as a stack of its frames, and counts images in good English."""

import pytest

from napari_particle_detect.cli.main import main


@pytest.mark.parametrize(("options", "said"), [
    (["--n", "3", "--stack"], "wrote a stack of 3 frames (stack.tif) with "),
    (["--n", "1"], "wrote 1 image with "),
    (["--n", "2", "--kind", "rods", "--shape", "96", "96"], "wrote 2 images with "),
    (["--n", "2", "--kind", "rods", "--stack", "--shape", "96", "96"], "wrote a stack of 2 frames (stack.tif) with "),
])
def test_synth_says_a_stack_as_a_stack_and_counts_images(tmp_path, capsys, options, said):
    assert main(["synth", str(tmp_path / "out"), "--shape", "64", "64", *options]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("wrote ")]
    assert len(lines) == 1 and lines[0].startswith(said), lines
