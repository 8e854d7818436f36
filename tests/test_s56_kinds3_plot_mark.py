"""evaluate's --plot is marked as detect's overlays are (files.overlay): by the mark, a rerun replaces its own plot
and a picture of the user's given as --plot is refused before any work (before: replaced without a word)."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.overlay import PLOT_MARK, check_replaceable, has_mark, is_overlay, save_overlay
from napari_particle_detect.kinds.evaluation import plot_report


def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    truth = pd.DataFrame({"frame": 0, "y": [10.0, 30.0, 50.0], "x": [12.0, 40.0, 20.0]})
    return truth.assign(y=truth["y"] + 0.5), truth


@pytest.mark.parametrize("suffix", ["png", "pdf", "svg", "jpg", "tif"])
def test_a_plot_is_marked_and_may_be_replaced_by_its_own_command(tmp_path, suffix):
    plot = tmp_path / f"report.{suffix}"
    plot_report(*tables(), str(plot))
    assert has_mark(plot, PLOT_MARK)
    check_replaceable(plot, PLOT_MARK)  # a rerun replaces it
    assert not is_overlay(plot)  # a plot is no overlay: neither replaces the other
    with pytest.raises(ParticleDetectError, match="is not an overlay detect drew; .* give --overlay another name"):
        check_replaceable(plot)


def test_a_picture_of_the_users_or_an_overlay_is_not_replaced_by_a_plot(tmp_path):
    cells = tmp_path / "cells.png"
    Image.fromarray((np.random.default_rng(0).random((40, 40)) * 255).astype(np.uint8)).save(cells)
    with pytest.raises(ParticleDetectError, match=f"^{cells}: exists and is not a plot evaluate drew; move it or "
                                                  "give --plot another name$"):
        check_replaceable(cells, PLOT_MARK)
    overlay = save_overlay(np.zeros((20, 20), np.float32), np.array([[5.0, 5.0]]), tmp_path / "overlay.png")
    check_replaceable(overlay)  # overlays keep their own rule
    with pytest.raises(ParticleDetectError, match="is not a plot evaluate drew"):
        check_replaceable(overlay, PLOT_MARK)
    check_replaceable(tmp_path / "new.png", PLOT_MARK)  # nothing there: nothing to lose


def test_plots_and_overlays_are_told_from_images_of_the_data(tmp_path):
    from napari_particle_detect.files.overlay import is_drawn

    plot = tmp_path / "report.png"
    plot_report(*tables(), str(plot))
    overlay = save_overlay(np.zeros((20, 20), np.float32), np.array([[5.0, 5.0]]), tmp_path / "overlay.tif")
    image = tmp_path / "cells.tif"
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(image)
    assert is_drawn(plot) and is_drawn(overlay) and not is_drawn(image)
