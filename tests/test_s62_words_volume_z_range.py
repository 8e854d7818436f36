"""The Volume dock's z range reads as unset until one is set or proposed: it showed 'z 0 0' before any box, a range
of slice 0 alone to the eye, while Draw box took it as unset (and Accept box accepted a box on slice 0 alone)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from napari_particle_detect._napari.volume_panel import VolumeDetectWidget

from helpers import notification_count, notifications_since

RECTANGLE = np.array([[4, 2, 2], [4, 2, 20], [4, 20, 20], [4, 20, 2]], dtype=float)  # (z, y, x) corners


def _dock(make_napari_viewer):
    viewer = make_napari_viewer()
    rng = np.random.default_rng(3)
    viewer.add_image(rng.random((24, 32, 32)).astype(np.float32), name="deep")
    viewer.add_image(rng.random((10, 32, 32)).astype(np.float32), name="shallow")
    dock = VolumeDetectWidget(viewer)
    dock.layer_combo.setCurrentText("deep")
    dock.review.project.save_frame(0, pd.DataFrame({"frame": 0, "z": [2.0, 4.0], "y": [6.0, 16.0], "x": [6.0, 16.0],
                                                    "score": 0.9, "source": "model"}))  # centres to accept
    dock.reload_points()
    return viewer, dock, dock.review_panel


def _shown(panel) -> tuple[str, str]:
    return panel.z_from.text(), panel.z_to.text()


def test_the_z_range_reads_unset_until_draw_box_proposes_one(make_napari_viewer, project_home):
    viewer, dock, panel = _dock(make_napari_viewer)
    assert _shown(panel) == ("auto", "auto")  # it said "0", "0"

    viewer.dims.set_current_step(0, 12)
    panel.draw_box()
    z0, z1 = (round(v) for v in panel.default_z_range())
    assert 0 < z0 < 12 < z1 and _shown(panel) == (str(z0), str(z1))

    dock.layer_combo.setCurrentText("shallow")  # another image: its range starts afresh, unset again
    assert _shown(panel) == ("auto", "auto") and panel.z_to.maximum() == 9


def test_accept_box_asks_for_a_z_range_where_none_is_set(make_napari_viewer, project_home):
    _, dock, panel = _dock(make_napari_viewer)
    seen = notification_count()

    panel.accept_box((2.0, 2.0, 20.0, 20.0))  # a box accepted on slice 0 alone before

    assert notifications_since(seen) == ["set the z range the box spans first (Draw box proposes one around the "
                                         "slice shown)"]
    assert not dock.review.project.regions()


def test_a_range_the_user_sets_is_kept_by_draw_box_and_accepted_as_set(make_napari_viewer, project_home):
    _, dock, panel = _dock(make_napari_viewer)
    panel.z_to.setValue(5)  # typed beside "auto": the first slice is 0, as the range started before
    assert _shown(panel) == ("0", "5")
    panel.z_from.setValue(2)

    panel.draw_box()
    panel.draft.add_rectangles(RECTANGLE)
    panel.accept_box()

    [region] = dock.review.project.regions()
    assert region.z_range == (1.5, 5.5)
    assert _shown(panel) == ("2", "5")
    panel.z_from.setValue(-1)  # stepped down to "auto": the whole range is unset
    assert _shown(panel) == ("auto", "auto")
