"""The hook that makes the canvas's OpenGL context current before a layer leaves the viewer (the crash it prevents
is shown by test_s52_segv_dock_close_after_review_next.py, in a child process): one per viewer, however many docks
are opened on it, and no trouble for a viewer never shown."""

import numpy as np


def test_the_guard_hooks_a_viewer_once(make_napari_viewer):
    from napari_particle_detect._napari.layers import guard_canvas_from_removed_layers

    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((8, 8)), name="image")
    hooks = len(viewer.layers.events.removing.callbacks)
    guard_canvas_from_removed_layers(viewer)
    guard_canvas_from_removed_layers(viewer)  # a second dock opened on the same viewer
    assert len(viewer.layers.events.removing.callbacks) == hooks + 1

    viewer.layers.remove("image")  # its canvas was never made: nothing to make current

    assert not len(viewer.layers)


def test_every_dock_guards_its_viewer_on_its_own(make_napari_viewer):
    # The Rods and chains and Volume docks remove their layers as they close, as the spheres dock does: a viewer
    # where only one of them was opened was left unguarded.
    import pytest

    from napari_particle_detect._napari.layers import _GUARDED_CANVASES, scene_canvas

    for dock in ("Rods and chains", "Volume detection (3D)"):
        viewer = make_napari_viewer()
        assert scene_canvas(viewer) not in _GUARDED_CANVASES
        try:
            viewer.window.add_plugin_dock_widget("napari-particle-detect", dock)
        except KeyError:
            pytest.fail(f"no dock named {dock!r}")
        assert scene_canvas(viewer) in _GUARDED_CANVASES, dock
