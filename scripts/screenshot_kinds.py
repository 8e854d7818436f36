"""Screenshots of the Rods and chains dock on the rods and chains samples, for the README.

Run headless with ``xvfb-run -a .venv/bin/python scripts/screenshot_kinds.py``: opens each sample,
detects with the shipped kind model through the dock and saves the window to
``docs/screenshot_napari_rods.png`` and ``docs/screenshot_napari_chains.png``.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = Path(tempfile.mkdtemp(prefix="particle-detect-kinds-screens-"))
os.environ["NAPARI_CONFIG"] = str(SCRATCH / "napari-settings.yaml")


def main() -> None:
    import napari
    from napari.settings import get_settings
    from qtpy.QtWidgets import QApplication

    get_settings().application.gui_notification_level = "error"
    for key, kind in (("rods", "rods"), ("chains", "chains")):
        viewer = napari.Viewer(show=True, title="napari-particle-detect")
        viewer.window._qt_window.resize(1400, 900)
        viewer.open_sample("napari-particle-detect", key)
        _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Rods and chains")
        widget.kind_combo.setCurrentText(kind)
        app = QApplication.instance()
        widget.detect()
        deadline = time.monotonic() + 600
        while widget.worker is not None and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.02)
        for _ in range(50):
            app.processEvents()
            time.sleep(0.02)
        viewer.reset_view()
        viewer.camera.zoom *= 1.0
        out = ROOT / "docs" / f"screenshot_napari_{key}.png"
        viewer.screenshot(str(out), canvas_only=False)
        print("wrote", out, "-", widget.status.text())
        viewer.close()


if __name__ == "__main__":
    main()
