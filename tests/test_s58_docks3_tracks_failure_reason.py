"""A Link that failed said only "linking failed" on the Tracks box's line, its reason in a popup that went away:
the line keeps the reason, in one line."""

import numpy as np
import pandas as pd
import pytest

from helpers import make_widget

pytestmark = pytest.mark.usefixtures("project_home")


def piled_frame(frame: int) -> pd.DataFrame:
    """60 centres within a third of a pixel (a table's rows pasted many times over): trackpy gives up on them."""
    rng = np.random.default_rng(frame)
    return pd.DataFrame({"y": 50 + rng.uniform(0, 0.3, 60), "x": 50 + rng.uniform(0, 0.3, 60), "source": "added"})


def test_a_failed_link_says_why_on_the_tracks_line(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((2, 96, 96), np.uint16), name="movie")
    widget = make_widget(viewer, None)
    widget.annotation.replace_frames({f: piled_frame(f) for f in (0, 1)})
    tracks = widget.tracks
    tracks.link()
    qtbot.waitUntil(lambda: tracks.worker is None, timeout=60000)
    line = tracks.status.text()
    assert line.startswith("linking failed: "), line
    assert "search range 5 px is too large" in line and "\n" not in line, line
