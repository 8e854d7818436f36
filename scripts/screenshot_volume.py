"""docs/screenshot_napari_volume.png: the Volume detection dock on a synthetic confocal volume, a
z slice with its 3D centres (drawn on every slice their sphere crosses) beside the 3D view.

    xvfb-run -a .venv/bin/python scripts/screenshot_volume.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    import napari
    import torch
    from qtpy.QtWidgets import QApplication

    from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
    from napari_particle_detect.detection.volume_detection import VolumeOptions, detect_volume, load_volume_model, volume_table
    from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

    torch.set_num_threads(1)
    sample = synthesize_volume(VolumeConfig(shape=(40, 128, 128), volume_fraction=0.45), seed=123)
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1500, 900)
    layer = viewer.add_image(sample.image, name="confocal volume", scale=(2.0, 1.0, 1.0), colormap="gray")
    dock = VolumeDetectWidget(viewer)
    viewer.window.add_dock_widget(dock, name="Volume detection (3D)", area="right")
    dock.diameter.setValue(10.0)
    options = dock.options()
    centres, scores, sizing = detect_volume(sample.image, load_volume_model(None), options)
    table = volume_table(0, centres, scores, options.voxel_size)
    points = dock.show_points(layer, table, sizing.diameter[1], sizing.diameter[0])
    dock.status.setText(f"{len(table)} centres; diameter z {sizing.diameter[0]:.1f}, y {sizing.diameter[1]:.1f}, "
                        f"x {sizing.diameter[2]:.1f} voxels ({sizing.source})")
    viewer.dims.set_point(0, 20 * 2.0)
    app = QApplication.instance()
    for _ in range(5):
        app.processEvents()
    from napari._qt.dialogs.qt_notification import NapariQtNotification

    for toast in viewer.window._qt_window.findChildren(NapariQtNotification):
        toast.close()  # the Qt-backend deprecation toast would cover the slice
    for _ in range(5):
        app.processEvents()
    slice_png = viewer.screenshot(canvas_only=False, flash=False)
    viewer.dims.ndisplay = 3
    points.size = 4.0  # every centre at once: smaller markers, so the packing shows through
    layer.rendering = "attenuated_mip"
    viewer.scene.camera.angles = (0, -35, 75)
    viewer.scene.camera.zoom = 2.6
    for _ in range(5):
        app.processEvents()
    view3d = viewer.screenshot(canvas_only=True, flash=False)
    # Side by side: the window (dock + slice) and the 3D canvas at the same height.
    from PIL import Image

    left = Image.fromarray(slice_png)
    right = Image.fromarray(view3d)
    right = right.resize((int(right.width * left.height / right.height), left.height))
    both = Image.new("RGBA", (left.width + right.width, left.height))
    both.paste(left, (0, 0))
    both.paste(right, (left.width, 0))
    out = REPO / "docs" / "screenshot_napari_volume.png"
    both.convert("RGB").save(out)
    print(out, both.size)
    viewer.close()


if __name__ == "__main__":
    main()
