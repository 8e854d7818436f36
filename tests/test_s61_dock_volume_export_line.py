"""The Volume dock's export line counts what it wrote, as the Particle detection dock's does: it said 'exported the
centres of every volume' of a single volume too, with no count to check the file by."""

import numpy as np
import pandas as pd
import pytest
from napari.components import ViewerModel

from helpers import notification_count, notifications_since

pytestmark = pytest.mark.usefixtures("project_home")


def _dock_with_centres(qtbot, image: np.ndarray, volumes: dict[int, int]):
    from napari_particle_detect._napari.volume_panel import VolumeDetectWidget

    viewer = ViewerModel()
    viewer.add_image(image, name="vol")
    dock = VolumeDetectWidget(viewer)
    qtbot.addWidget(dock)
    assert dock.axes_combo.currentText().startswith("TZYX" if image.ndim == 4 else "ZYX")
    for frame, count in volumes.items():
        dock.review.save_edits(frame, pd.DataFrame({"frame": frame, "z": np.arange(count, dtype=float) + 1.0,
                                                    "y": 10.0, "x": 10.0, "score": np.nan, "source": "added"}))
    return dock


def test_a_single_volumes_export_says_how_many_centres_it_wrote(qtbot, tmp_path):
    dock = _dock_with_centres(qtbot, np.zeros((8, 24, 24), np.float32), {0: 3})
    seen = notification_count()
    written = dock.review_panel.export(tmp_path / "vol.csv")
    assert len(pd.read_csv(written)) == 3
    assert notifications_since(seen)[0] == f"exported 3 centres to {written}"


def test_a_series_export_says_its_centres_and_volumes(qtbot, tmp_path):
    dock = _dock_with_centres(qtbot, np.zeros((2, 8, 24, 24), np.float32), {0: 2, 1: 1})
    seen = notification_count()
    written = dock.review_panel.export(tmp_path / "series.csv")
    assert notifications_since(seen)[0] == f"exported 3 centres of 2 volumes to {written}"
