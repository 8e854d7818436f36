"""`particle-detect gui` opens its window over the screen's free area where napari has no size of the user's to
restore: at napari's first size the docks left the canvas a strip 240 px wide."""

from napari.settings import get_settings

from napari_particle_detect.cli.gui import fit_window_to_screen


def test_the_window_is_fitted_to_the_screen_unless_a_size_was_saved(make_napari_viewer, monkeypatch):
    viewer = make_napari_viewer()
    screen = viewer.window._qt_window.screen().availableGeometry()
    monkeypatch.setattr(get_settings().application, "window_size", None)  # none saved: napari's first size
    fit_window_to_screen(viewer)
    assert viewer.window.geometry() == (screen.left(), screen.top(), screen.width(), screen.height())
    viewer.window.resize(900, 700)
    monkeypatch.setattr(get_settings().application, "window_size", (900, 700))  # the user's, restored by napari
    fit_window_to_screen(viewer)
    assert viewer.window.geometry()[2:] == (900, 700)
