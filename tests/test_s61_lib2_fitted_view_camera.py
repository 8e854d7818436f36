"""The view particle-detect gui fits to a table opened alone (cli.gui._FittedUntilMoved) reads napari's camera where
napari 0.9 keeps it (viewer.scene.camera), as the docks' view (docked_view) does: viewer.camera warned of its
deprecation at every resize of the canvas. A view the user moved is left as it is."""

import warnings

import numpy as np


def _camera_warnings(caught) -> list[str]:
    return [str(warning.message) for warning in caught if "viewer.camera" in str(warning.message)]


def test_the_fitted_view_reads_the_camera_without_a_deprecation(make_napari_viewer):
    from napari_particle_detect.cli.gui import _FittedUntilMoved

    viewer = make_napari_viewer()
    viewer.add_points(np.array([[30.0, 40.0], [400.0, 290.0]]), name="far")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = _FittedUntilMoved(viewer, 0.05)
        fitted()  # a resize of an unmoved view: fitted again
        refitted = viewer.scene.camera.zoom
        viewer.scene.camera.zoom = refitted * 3  # the user's zoom
        fitted()
    assert _camera_warnings(caught) == []
    assert fitted._fitted is None and viewer.scene.camera.zoom == refitted * 3
