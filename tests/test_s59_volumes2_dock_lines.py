"""The Volume dock's review box, lines and popups: a renamed 3D box said as it is on close, a reopened dock's round
line with the round's time, and names shown in popups as they are written."""

from __future__ import annotations

import numpy as np
import pytest
from napari.components import ViewerModel

from helpers import notification_count, notifications_since

pytestmark = pytest.mark.usefixtures("project_home")


def volume_dock(qtbot, name: str = "vol"):
    from napari_particle_detect._napari.volume_panel import VolumeDetectWidget

    viewer = ViewerModel()
    viewer.add_image(np.random.default_rng(1).random((8, 32, 32)).astype(np.float32), name=name)
    dock = VolumeDetectWidget(viewer)
    qtbot.addWidget(dock)
    return viewer, dock


def test_a_renamed_3d_review_box_is_said_not_kept(qtbot):
    # Renamed by the user, the box proposed or drawn was listed with the layers that come back, and it did not.
    viewer, dock = volume_dock(qtbot)
    dock.review_panel.draw_box()
    box = dock.review_panel.draft
    box.add_rectangles(np.array([[4, 2, 2], [4, 2, 20], [4, 20, 20], [4, 20, 2]], dtype=float))
    box.name = "my box"
    seen = notification_count()
    dock._shut_down_saving(put_layers_away=True)
    said = [m for m in notifications_since(seen) if "dock was closed" in m]
    assert len(said) == 1 and "'my box' is not kept" in said[0], said
    assert "my box" not in viewer.layers


def test_a_reopened_docks_round_line_tells_the_rounds_time(qtbot):
    # The round's end said "... Finished in 3 s"; the dock opened again said the verdict without it.
    from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
    from napari_particle_detect.projects.project import RoundInfo

    viewer, dock = volume_dock(qtbot)
    project = dock.review.project
    for info in (RoundInfo(0, "shipped unet3d"),
                 RoundInfo(0, "fine-tuned", parent=1, held_out=2, f1=0.9, parent_f1=0.8, improved=True, seconds=3.2)):
        workspace = project.new_workspace()
        (workspace / "model.pt").write_bytes(b"weights")
        project.commit_round(workspace, info)
    dock._shut_down_saving(put_layers_away=True)
    again = VolumeDetectWidget(viewer)
    qtbot.addWidget(again)
    said = again.round_panel.status.text()
    assert said.startswith("round-002: ") and said.endswith(". Finished in 3 s. Detect again to use it."), said


def test_popups_show_a_markup_like_name_as_it_is(qtbot, tmp_path):
    # napari's popup guesses the format: "run<b>7 &lt;2>.tif" showed as "run" and a bold "7 <2>.tif". Sent as
    # written, as plain text (their popups drawn as such: tests/test_s60_napari_popups_plain_text.py).
    name = "run<b>7 &lt;2>"
    viewer, dock = volume_dock(qtbot, name)
    seen = notification_count()
    written = dock.review_panel.export(tmp_path / f"{name}.csv")
    viewer.layers.remove(name)
    shown = notifications_since(seen)
    assert shown[0] == f"exported 0 centres to {written}", shown
    assert shown[1].startswith(f"'{name}' was closed; "), shown


def test_a_whole_volume_proposed_leaves_no_earlier_box_to_accept(qtbot):
    # Review next 'by volume' after a box was proposed left that box drawn: it read as part of the new proposal, and
    # Accept box accepted it on the volume shown.
    import pandas as pd

    viewer, dock = volume_dock(qtbot)
    dock.threshold.setValue(0.5)
    centres = pd.DataFrame({"frame": 0, "z": [2.0, 4.0, 5.0], "y": [6.0, 16.0, 26.0], "x": [6.0, 16.0, 26.0],
                            "score": [0.52, 0.9, 0.48], "source": "model"})
    dock.review.project.save_frame(0, centres)
    panel = dock.review_panel
    assert "centre" in panel.review_next() and len(panel.draft.data) == 1  # a box proposed
    panel.mode_combo.setCurrentIndex(1)
    assert panel.review_next().startswith("volume 0")
    assert not len(panel.draft.data)
    seen = notification_count()
    panel.accept_box()
    assert notifications_since(seen) == ["draw a box first (Draw box, then drag on the slice)"]
    assert not dock.review.project.regions()
