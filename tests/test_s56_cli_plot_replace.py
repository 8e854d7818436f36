"""evaluate --plot replaces only a plot evaluate drew (a picture of the user's at that path is refused, unchanged), and
a plot drawn into a folder of images is no image to detect (it failed there as a colour image)."""

import numpy as np
import pandas as pd
from PIL import Image

from napari_particle_detect.cli.main import main


def test_evaluate_plot_replaces_its_own_plot_and_no_other_picture(tmp_path, capsys):
    truth = pd.DataFrame({"frame": 0, "y": [10.0, 30.0], "x": [12.0, 40.0]})
    truth.to_csv(tmp_path / "truth.csv", index=False)
    truth.assign(y=truth["y"] + 0.5).to_csv(tmp_path / "pred.csv", index=False)
    cells = tmp_path / "cells.png"
    Image.fromarray(np.full((40, 40), 7, np.uint8)).save(cells)
    before = cells.read_bytes()
    command = ["-q", "evaluate", str(tmp_path / "pred.csv"), str(tmp_path / "truth.csv"), "--plot"]
    assert main([*command, str(cells)]) == 2
    assert f"{cells}: exists and is not a plot evaluate drew; move it or give --plot another name" in \
        capsys.readouterr().err
    assert cells.read_bytes() == before
    plot = tmp_path / "report.png"
    assert main([*command, str(plot)]) == 0 and plot.is_file()
    assert main([*command, str(plot)]) == 0  # the same command again replaces its own plot


def test_a_plot_evaluate_drew_into_a_folder_of_images_is_left_out_of_detect(tmp_path, capsys):
    import tifffile

    from helpers import small_stack

    folder = tmp_path / "fold"
    folder.mkdir()
    tifffile.imwrite(folder / "cells.tif", small_stack(1, 64)[0])
    truth = pd.DataFrame({"frame": 0, "y": [10.0, 30.0], "x": [12.0, 40.0]})
    truth.to_csv(tmp_path / "truth.csv", index=False)
    assert main(["-q", "evaluate", str(tmp_path / "truth.csv"), str(tmp_path / "truth.csv"),
                 "--plot", str(folder / "report.png")]) == 0
    assert main(["-q", "detect", str(folder), "-o", str(tmp_path / "out") + "/", "--diameter", "8"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").glob("*.csv")) == ["cells.csv"]
