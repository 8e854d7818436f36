"""Quitting napari with the Volume (3D) dock open: napari's Viewer.close (a script's, or File > Exit's for each
viewer) removes every layer before the window closes, and the dock told the user each shown image 'was closed'."""

import numpy as np
import pandas as pd

from helpers import notification_count, notifications_since

DOCK = ("napari-particle-detect", "Volume detection (3D)")


def _volume_with_centres(viewer):
    viewer.add_image(np.random.default_rng(3).random((10, 32, 32)).astype(np.float32), name="vol")
    viewer.add_image(np.zeros((10, 32, 32), np.float32), name="other")
    _, dock = viewer.window.add_plugin_dock_widget(*DOCK)
    dock.layer_combo.setCurrentText("vol")
    centres = pd.DataFrame({"frame": 0, "z": [3.0, 6.0], "y": [10.0, 20.0], "x": [12.0, 22.0], "score": np.nan,
                            "source": "added"})
    dock.review.save_edits(0, centres)
    dock.reload_points()
    return dock, centres


def test_closing_the_viewer_says_no_image_was_closed_and_its_centres_come_back(make_napari_viewer, project_home):
    viewer = make_napari_viewer()
    dock, centres = _volume_with_centres(viewer)
    seen = notification_count()
    viewer.close()
    assert not [m for m in notifications_since(seen) if "was closed" in m]
    assert dock.closed

    again = make_napari_viewer()
    again.add_image(np.random.default_rng(3).random((10, 32, 32)).astype(np.float32), name="vol")
    _, reopened = again.window.add_plugin_dock_widget(*DOCK)
    np.testing.assert_allclose(np.asarray(reopened.points.data), centres[["z", "y", "x"]].to_numpy())


def test_an_image_the_user_closes_is_still_said_closed(make_napari_viewer, project_home):
    viewer = make_napari_viewer()
    _volume_with_centres(viewer)
    seen = notification_count()
    viewer.layers.remove("vol")
    assert notifications_since(seen) == ["'vol' was closed; its 3D centres and reviews are kept in its project and "
                                         "come back when it is opened again"]
