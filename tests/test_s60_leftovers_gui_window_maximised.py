"""`particle-detect gui` fitted its window's inside to the screen's free area, so a window manager's title bar landed
above the screen: the window is also asked to be maximised, for the window manager to fit frame and window (with
none, the geometry set stands: tests/test_s59_gui_window_fits_screen.py)."""

from napari.settings import get_settings

from napari_particle_detect.cli.gui import fit_window_to_screen


def test_the_fitted_window_is_maximised_and_one_of_a_saved_size_is_not(make_napari_viewer, monkeypatch):
    viewer = make_napari_viewer()
    window = viewer.window._qt_window
    free = window.screen().availableGeometry()
    monkeypatch.setattr(get_settings().application, "window_size", None)  # none saved: napari's first size
    fit_window_to_screen(viewer)
    assert window.isMaximized()
    assert viewer.window.geometry() == (free.left(), free.top(), free.width(), free.height())  # no window manager
    other = make_napari_viewer()
    other.window.resize(900, 700)
    monkeypatch.setattr(get_settings().application, "window_size", (900, 700))  # the user's, restored by napari
    fit_window_to_screen(other)
    assert not other.window._qt_window.isMaximized() and other.window.geometry()[2:] == (900, 700)
