"""What `particle-detect gui` opens stays fitted to the canvas when the window is shown or resized after the viewer is
built (fitted to the canvas as built, a table's points ran off a wider, shorter window, and an image fitted as it came
was cut once the docks' contents narrowed the canvas), until the user moves the view, which then stays theirs."""

import numpy as np
import pandas as pd
import tifffile

from napari_particle_detect.cli.gui import build_viewer


def _inside_the_view(viewer, low, high) -> bool:
    half = np.asarray(viewer.canvas.size, float) / (2 * viewer.camera.zoom)
    centre = np.asarray(viewer.camera.center[-2:])
    return bool((np.asarray(low) >= centre - half).all() and (np.asarray(high) <= centre + half).all())


def _shown_points_inside(viewer) -> bool:
    points = viewer.layers["far"]
    radius = float(np.max(points.size)) / 2
    return _inside_the_view(viewer, points.data.min(axis=0) - radius, points.data.max(axis=0) + radius)


def test_a_table_alone_is_fitted_to_the_canvas_it_is_shown_on(tmp_path, project_home, napari_app_of_its_own, qtbot):
    table = tmp_path / "far.csv"
    pd.DataFrame({"y": [30.0, 400.0, 380.0], "x": [40.0, 30.0, 290.0]}).to_csv(table, index=False)
    viewer = build_viewer([table], show=False)
    try:
        viewer.show()
        viewer.window.resize(1500, 500)
        qtbot.waitUntil(lambda: viewer.canvas.size[0] < 500)
        assert _shown_points_inside(viewer)
        viewer.camera.zoom *= 3  # the user's zoom stays at the next resize
        zoom = viewer.camera.zoom
        viewer.window.resize(1400, 700)
        qtbot.waitUntil(lambda: viewer.canvas.size[0] > 500)
        assert viewer.camera.zoom == zoom
    finally:
        viewer.close()


def test_an_image_is_fitted_to_the_canvas_it_is_shown_on(tmp_path, project_home, napari_app_of_its_own, qtbot):
    tifffile.imwrite(tmp_path / "tall.tif", np.zeros((430, 330), np.uint8))
    viewer = build_viewer([tmp_path / "tall.tif"], show=False)
    try:
        viewer.show()
        viewer.window.resize(1500, 500)
        qtbot.waitUntil(lambda: viewer.canvas.size[0] < 500)
        assert _inside_the_view(viewer, (-0.5, -0.5), (429.5, 329.5))
    finally:
        viewer.close()
