"""Fixtures shared by the tests: a light model, a temporary home for projects, and two autouse ones (the key
release does nothing without a Qt application; the garbage collector's freeze serves every test)."""

import gc
import logging
import os
import sys

import pytest


def _plugin_packages_imported_as_they_are() -> None:
    """pytest rewrites the asserts of every module of a package that ships a pytest plugin (napari, zarr, npe2 and
    six more: some 640 modules) as a worker imports them, and with PYTHONDONTWRITEBYTECODE set it keeps no rewritten
    copy: every worker parsed and compiled them all again, about 3 s of CPU each. Their asserts are no test's; the
    tests' own modules and conftest are still rewritten (pytest matches those by name, not by this mark)."""
    for finder in sys.meta_path:
        marked = getattr(finder, "_must_rewrite", None)
        if isinstance(marked, set):
            marked.clear()


_plugin_packages_imported_as_they_are()

# first: it sets torch's OpenMP waiting policy
from napari_particle_detect.learning.training import TrainConfig, train  # noqa: E402

import torch  # noqa: E402, I001

gc.freeze()  # the imports above are most of a worker's objects; see garbage_collected_over_this_tests_objects_only

# Briefly trained: poor detections, but scores spread enough (about 0.3-0.5) for threshold tests.
LIGHT = TrainConfig(epochs=1, steps_per_epoch=25, batch_size=4, crop=48, validation_images=1, validation_size=48,
                    threads=1, device="cpu", learning_rate=3e-3)


@pytest.fixture(autouse=True)
def garbage_collected_over_this_tests_objects_only():
    """Everything alive when a test starts (torch, napari, Qt, models cached by earlier tests) is set aside from
    the garbage collector: napari collects in full at every layer removal and viewer close, and over the
    hundreds of thousands of objects those imports leave, that took about a quarter of a GUI test's time.
    The earlier tests' garbage is collected first, so nothing of it is kept."""
    gc.collect()
    gc.freeze()
    yield


_ROOT_LEVEL = logging.getLogger().level


@pytest.fixture(autouse=True)
def root_logging_level_as_at_start():
    """The root logger's level as the session began, for each test: main() stopped by Ctrl-C in a test's process sets
    it to CRITICAL (a stopped command says one line), and a later test's warnings (the docks show the package's
    warnings from the records they catch) never came, depending on which test ran before it."""
    logging.getLogger().setLevel(_ROOT_LEVEL)
    yield


@pytest.fixture(scope="session", autouse=True)
def no_flush_to_the_disk():
    """The projects' and models' files are flushed to the disk as written (os.fsync), some 16 times a test at 1 to
    5 ms each on a busy disk. A flush keeps writes over a power cut only, which no test makes (a killed process's
    writes reach the files without it), so the tests' own process skips it; child processes flush as ever."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "fsync", lambda fd: None)
        yield


@pytest.fixture(scope="session", autouse=True)
def plugins_discovered_once():
    """napari's make_napari_viewer discovers the installed plugins again for every viewer: every distribution's
    metadata read, each plugin's manifest parsed (pure-Python YAML) and validated, 0.15 s a viewer over a thousand
    viewers. No test installs a plugin: what a process's first discovery found is given to each later one, each
    time as a copy of its own (unpickled: a plugin manager's changes to its manifests stay its own)."""
    import pickle

    from npe2.manifest.schema import PluginManifest

    discover = PluginManifest.discover
    found: dict[tuple[str, ...], bytes] = {}

    def discovered_once(paths=()):
        key = tuple(map(str, paths))
        if key not in found:
            found[key] = pickle.dumps(list(discover(paths)))
        return iter(pickle.loads(found[key]))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(PluginManifest, "discover", staticmethod(discovered_once))
        yield


@pytest.fixture(scope="session", autouse=True)
def napari_settings_kept_off_the_disk():
    """napari writes its settings file (a pydantic dump and YAML) at every change, and make_napari_viewer resets them
    before and after each viewer: some 0.05 s a viewer, over a thousand viewers, all into the user's own napari
    settings file. No test reads that file back; a `particle-detect gui` child process keeps its own."""
    from napari.settings import get_settings

    settings = get_settings()
    saving, settings._save_on_change = settings._save_on_change, False
    yield
    settings._save_on_change = saving


@pytest.fixture(scope="session", autouse=True)
def layer_removal_without_a_full_collection():
    """napari's canvas collects all the garbage at every layer removal (a Windows OpenGL driver's race, which
    Xvfb's software OpenGL does not have): a full collection over all a GUI test had made, several times a test
    (a viewer's close removes each layer), about a tenth of the GUI tests' CPU. Their garbage is still collected,
    once, as the next test starts (garbage_collected_over_this_tests_objects_only), and make_napari_viewer still
    collects in full before it calls a viewer left alive a leak."""
    import types

    from napari._vispy import canvas

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(canvas, "gc", types.SimpleNamespace(collect=lambda *_: 0))
        yield


@pytest.fixture(scope="session", autouse=True)
def callback_signatures_read_once():
    """napari reads a callback's signature (inspect.signature) at every connection to one of its events, some 1,700
    times a GUI test (every layer's controls, every dock widget), 2-3 % of the GUI tests' CPU. Whether a callback
    takes the event depends on its code and how many defaults it has and whether it is bound, so a plain function
    or method is read once; anything else (wrapped, partial, callable objects) is read each time as before."""
    from napari.utils.events.event import EventEmitter

    check = EventEmitter._check_signature
    taking: dict[tuple, bool] = {}

    def checked_once(fun) -> bool:
        function = getattr(fun, "__func__", fun)
        code = getattr(function, "__code__", None)
        if code is None or hasattr(fun, "__wrapped__") or hasattr(fun, "__signature__"):
            return check(fun)
        key = (code, hasattr(fun, "__self__"), len(getattr(function, "__defaults__", None) or ()))
        if key not in taking:
            taking[key] = check(fun)
        return taking[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EventEmitter, "_check_signature", staticmethod(checked_once))
        yield


@pytest.fixture(scope="session", autouse=True)
def no_application_wide_event_filter_per_window():
    """Each napari window filters every event of the whole application through Python (to show a hidden menu bar
    as the mouse nears it in full-screen mode, which no test uses): some 20,000 calls a GUI test, about 2 % of
    its CPU. The filter is taken off as each window is made."""
    from napari._qt.qt_event_loop import get_qapp
    from napari._qt.qt_main_window import Window

    make = Window.__init__

    def made_without_the_filter(self, *args, **kwargs):
        make(self, *args, **kwargs)
        get_qapp().removeEventFilter(self._qt_window)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Window, "__init__", made_without_the_filter)
        yield


@pytest.fixture(scope="session")
def light_model(tmp_path_factory):
    """A real model file, trained for a few seconds; its accuracy is irrelevant."""
    torch.set_num_threads(1)
    return train(LIGHT, out=tmp_path_factory.mktemp("light-model") / "light").path


@pytest.fixture
def project_home(tmp_path, monkeypatch):
    """Projects of unsaved images go under a temporary home, never the real one."""
    torch.set_num_threads(1)
    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture(autouse=True)
def projects_home_apart(tmp_path_factory, monkeypatch):
    """No test keeps projects in the real home (images without a file keep theirs there): a test that forgot
    project_home wrote there, and its next run found the last run's rounds."""
    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture(autouse=True)
def no_key_held_from_an_earlier_test():
    """Qt takes a modifier clicked by qtbot.keyClick (Ctrl+Shift+Z, Shift+Return) as still held until the next key
    event, in whichever test that comes: a later table.selectRow then acts as a Shift-click and selects no single
    row. A key released on a spare widget tells Qt that no key is held."""
    from qtpy.QtCore import Qt
    from qtpy.QtWidgets import QApplication, QWidget

    app = QApplication.instance()
    if app is not None and app.keyboardModifiers() != Qt.KeyboardModifier.NoModifier:
        from qtpy.QtTest import QTest

        QTest.keyRelease(QWidget(), Qt.Key.Key_Shift)
    yield


@pytest.fixture
def napari_app_of_its_own(mock_app_model):
    """A napari.Viewer built outside make_napari_viewer (as `particle-detect gui` builds one) registers napari's
    plugins in napari's application; after any make_napari_viewer in the same worker (it clears the registration's
    cache) a second such viewer registered them again and failed ("Command 'napari-svg.svg_writer' already
    registered"), whichever order pytest-xdist gave the files. Here the viewer registers them in an application
    of its own, as make_napari_viewer's do."""
    from napari._qt._qapp_model.qactions import init_qactions
    from napari.plugins import _initialize_plugins

    _initialize_plugins.cache_clear()
    init_qactions.cache_clear()
    yield mock_app_model
