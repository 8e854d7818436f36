"""An overlay or plot drawn before their marks existed (a matplotlib picture without one) is refused saying what it may
be and how to go on: before, it was called no picture of detect's or evaluate's, though it may well be one."""

from __future__ import annotations

import matplotlib
import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.overlay import PLOT_MARK, check_replaceable

matplotlib.use("Agg")


@pytest.mark.parametrize("suffix", ["png", "pdf", "svg"])
def test_an_unmarked_matplotlib_picture_is_refused_saying_how_to_go_on(tmp_path, suffix):
    import matplotlib.pyplot as plt

    earlier = tmp_path / f"overlay.{suffix}"
    figure = plt.figure()
    figure.savefig(earlier)  # as versions before the marks drew overlays and plots
    plt.close(figure)
    for mark, drawn, option in ((None, "an overlay detect drew", "--overlay"), (PLOT_MARK, "a plot evaluate drew",
                                                                                "--plot")):
        with pytest.raises(ParticleDetectError) as refused:
            check_replaceable(earlier, *([mark] if mark else []))
        assert str(refused.value) == (
            f"{earlier}: exists, a matplotlib picture without the mark of {drawn} (one drawn before such marks, or a "
            f"figure of yours); delete or move it to draw there, or give {option} another name")
