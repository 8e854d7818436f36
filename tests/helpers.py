"""Shared building blocks for the tests."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import torch

from napari_particle_detect.learning.training import TrainConfig, train

TINY = TrainConfig(epochs=1, steps_per_epoch=3, batch_size=2, crop=32, validation_images=2, validation_size=64,
                   threads=1, device="cpu")


def tiny_model_file(folder: Path) -> Path:
    """A real but barely trained model saved to disk (fast; its accuracy is irrelevant), as ``folder``/tiny.pt with
    the files its training wrote beside it. Trained once per process and copied after: fifty trainings took about
    twenty seconds of the suite, and TINY's training gives the same model each time (seeded)."""
    torch.set_num_threads(1)
    trained = _tiny_model_trained_once()
    Path(folder).mkdir(parents=True, exist_ok=True)
    for written in trained.parent.iterdir():
        shutil.copy2(written, Path(folder) / written.name)
    return Path(folder) / trained.name


@functools.cache
def _tiny_model_trained_once() -> Path:
    """TINY trained into a folder of its own that no test is given (the tests write beside their copies)."""
    folder = Path(tempfile.mkdtemp(prefix="tiny-model-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return train(TINY, out=folder / "tiny").path


def reviewed_project(folder: Path):
    """A project of two 64 px frames of ``folder``'s img.tif, both accepted with their true centres, whose
    round 1 is a barely trained model (tiny_model_file); with the frames' stack: (project, stack)."""
    import numpy as np
    import pandas as pd

    from napari_particle_detect.projects.project import Project
    from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

    samples = [synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=s) for s in range(2)]
    project = Project.open(folder / "img.tif", n_frames=2, frame_shape=(64, 64))
    project.ensure_initial_round(tiny_model_file(folder))
    project.remember_detection(12.0, "auto")
    for frame, sample in enumerate(samples):
        project.accept_frame(frame, pd.DataFrame({"y": sample.centres[:, 0], "x": sample.centres[:, 1]}))
    return project, np.stack([s.image for s in samples])


@contextmanager
def ctrl_c_once_written(path: Path, wait_s: float = 60.0):
    """Within the block, a Ctrl-C reaches the main thread once ``path`` exists (a run's first kept state), as
    a Ctrl-C does: through Python's handler (_thread.interrupt_main), since an OS SIGINT raised inside a
    pytest-xdist worker killed the worker."""
    import _thread
    import signal
    import threading

    def press() -> None:
        deadline = time.monotonic() + wait_s
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        _thread.interrupt_main(signal.SIGINT)

    presser = threading.Thread(target=press)
    presser.start()
    try:
        yield
    finally:
        presser.join()


@contextmanager
def event_loop_ticks(interval_ms: int = 20):
    """Times a main-thread QTimer fired while the block ran: a frozen viewer shows as a gap."""
    from qtpy.QtCore import QTimer

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(interval_ms)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    try:
        yield ticks
    finally:
        timer.stop()


# ---- the dock in a viewer ----------------------------------------------------------------------
def small_stack(n: int = 3, size: int = 96):
    """A few frames of overlapping fluorescent particles."""
    import numpy as np

    from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

    return np.stack([synthesize(benchmark_config("fluorescent", 0.5, (size, size)), seed=s).image for s in range(n)])


def make_widget(viewer, model):
    """The dock, docked, detecting on the CPU, with a user who answers its questions (see answer_questions)."""
    from napari_particle_detect._napari.widget import ParticleDetectWidget

    widget = ParticleDetectWidget(viewer, default_model=model)
    viewer.window.add_dock_widget(widget)
    widget.detect.device_combo.setCurrentText("cpu")
    answer_questions(widget)
    return widget


def answer_questions(widget) -> None:
    """Click an answer in each dialog the review panel opens ("accept a frame that drops most of its
    centres?"), as a user would: the next of ``widget.answers`` (True: Yes), Yes when none is left.
    The questions asked are kept in ``widget.questions``."""
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QMessageBox

    widget.answers, widget.questions = [], []

    def tick():
        try:
            box = widget.review.dialog
            asking = box is not None and box.isVisible() and box.property("answered") is None
        except RuntimeError:  # the dock's Qt side is gone (closed, its viewer too): no question is left to answer
            timer.stop()
            return
        if asking:
            box.setProperty("answered", True)
            widget.questions.append(box.text())
            yes = widget.answers.pop(0) if widget.answers else True
            box.button(QMessageBox.StandardButton.Yes if yes else QMessageBox.StandardButton.No).click()

    timer = QTimer(widget)
    timer.setInterval(20)
    timer.timeout.connect(tick)
    # An exception raised in a slot outside a test (the timer firing on after it) aborts the worker process.
    widget.destroyed.connect(timer.stop)
    timer.start()


def run_detect(widget, qtbot, scope: int = 1) -> None:
    """Detect (0: the current frame, 1: every unreviewed frame) and wait for it."""
    widget.detect.scope_combo.setCurrentIndex(scope)
    widget.detect.run_button.click()
    assert widget.detect.running()
    qtbot.waitUntil(lambda: not widget.detect.running(), timeout=60_000)


def notifications_since(start: int) -> list[str]:
    from napari.utils.notifications import notification_manager

    return [str(n.message) for n in notification_manager.records[start:]]


def notification_count() -> int:
    from napari.utils.notifications import notification_manager

    return len(notification_manager.records)


def opened_with_messages(viewer, path) -> tuple[list, list[str]]:
    """``path`` opened with the plugin's reader in ``viewer``: its layers, and what was said meanwhile (warnings such
    as napari's "Inconsistent units", then the plugin's notifications)."""
    import warnings

    seen = notification_count()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layers = viewer.open(str(path), plugin="napari-particle-detect")
    return layers, [str(w.message) for w in caught] + notifications_since(seen)


def shown_plugin_dock(make_napari_viewer, qtbot):
    """The dock as napari adds it from the Plugins menu, in a shown 1280 x 720 window (napari's style, as
    measured once shown) holding a small stack: the viewer, the widget and its QDockWidget."""
    from qtpy.QtWidgets import QDockWidget

    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1280, 720)
    viewer.add_image(small_stack(2, 64), name="cells")
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Particle detection")
    dock = next(d for d in viewer.window._qt_window.findChildren(QDockWidget)
                if "Particle detection" in d.windowTitle())
    qtbot.waitExposed(dock)
    return viewer, widget, dock


def pick(widget, name: str) -> None:
    """Choose ``name`` in the spheres dock's Image list as a user does (the list's 'activated', also for the image
    already chosen)."""
    index = widget.image_combo.findText(name)
    widget.image_combo.setCurrentIndex(index)
    widget.image_combo.activated.emit(index)


def spheres_dock_on_a_short_stack(make_napari_viewer):
    """A viewer holding 'short' (2 frames) and 'long' (6 frames, so the slider can go past 'short''s last frame),
    the spheres dock on 'short': (viewer, widget)."""
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 48), name="short")
    viewer.add_image(small_stack(6, 48), name="long")
    widget = make_widget(viewer, None)
    pick(widget, "short")
    return viewer, widget


def detect_channel_as_its_plane_alone(run_cli, capsys, path: Path, alone: Path, common) -> None:
    """``detect --channel 1`` of ``path`` into one.csv beside it finds what ``alone`` (that channel saved by itself)
    gives into alone.csv: a frame 0 of particles, the same table (``run_cli(capsys, *args)`` -> code, out, err)."""
    import pandas as pd

    folder = Path(path).parent
    for source, out, chosen in ((path, "one.csv", ("--channel", "1")), (alone, "alone.csv", ())):
        code, _, err = run_cli(capsys, "detect", source, "-o", folder / out, *chosen, *common)
        assert code == 0, err
    found = pd.read_csv(folder / "one.csv")
    assert len(found) > 5 and set(found["frame"]) == {0} and found.equals(pd.read_csv(folder / "alone.csv"))


def press(viewer, *keys: str) -> None:
    """Keys pressed over the canvas, as napari hands them to the active layer's bindings."""
    handler = viewer.window._qt_viewer._key_map_handler
    for key in keys:
        handler.press_key(key)
        handler.release_key(key)


def kinds_dock(viewer, kind: str, name: str):
    """The Rods and chains dock on the image ``name`` for ``kind``."""
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Rods and chains")
    widget.kind_combo.setCurrentText(kind)
    widget.image_combo.setCurrentText(name)
    assert widget.session.image.name == name
    return widget


def kinds_dock_detected(viewer, qtbot, image, kind: str, name: str = "img"):
    """The Rods and chains dock on ``image`` (added as ``name``) for ``kind``, its detection finished."""
    viewer.add_image(image, name=name)
    widget = kinds_dock(viewer, kind, name)
    widget.detect()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    return widget


def small_rods_image():
    """A 96 px image of rods (the benchmark's fluorescent look at area fraction 0.15, seed 97)."""
    from dataclasses import replace

    from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

    config = benchmark_rod_config("fluorescent", 0.15)
    return synthesize_rods(replace(config, optics=replace(config.optics, shape=(96, 96))), seed=97).image


def rod_deleted_in_an_accepted_region(viewer, widget) -> None:
    """The Rods and chains dock's first rod deleted and a region accepted around where it was (an edit learned
    there), then the dock closed: the frame's table as detected is gone with it, the project's record alone says."""
    import numpy as np

    layer = viewer.layers["img rods"]
    y, x = np.asarray(layer.data[0]).mean(axis=0)
    layer.selected_data = {0}
    layer.remove_selected()
    widget.session.regions.propose(0, (y - 12.0, x - 12.0, y + 12.0, x + 12.0))
    widget.review.accept_region()
    viewer.window.remove_dock_widget(widget)


def signalling_in_step(step, at: int, *signals: int, steps: list[int] | None = None):
    """training.take_step ``step`` raising ``signals`` inside step ``at`` (counted from 1), as a signal landing
    mid-step does; each step's number is appended to ``steps``."""
    import signal

    steps = [] if steps is None else steps

    def take_step(*args, **kwargs):
        steps.append(len(steps) + 1)
        if len(steps) == at:
            for number in signals:
                signal.raise_signal(number)
        return step(*args, **kwargs)

    return take_step


def main_in_child(folder: Path, setup: str, *args: str) -> tuple[int, list[str]]:
    """``particle-detect ARGS`` through cli.main.main in a Python process of its own working in ``folder``, after
    ``setup`` (Python lines, this tests folder importable): its exit status and its stderr lines. For a run that
    raises a stop signal in itself, which a long-lived test worker is better kept out of."""
    import subprocess
    import sys

    tests = Path(__file__).parent
    code = "\n".join(["import sys", f"sys.path[:0] = [{str(tests)!r}, {str(tests.parent)!r}]", setup,
                      "from napari_particle_detect.cli.main import main", f"sys.exit(main({list(args)!r}))"])
    done = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "HOME": str(folder),
                               "NAPARI_PARTICLE_DETECT_HOME": str(folder)})
    return done.returncode, done.stderr.strip().splitlines()


# A recipe of one phase of one epoch of three steps on a tiny network: enough to pause, resume and finish in seconds.
TINY_RECIPE = """
name = "{name}"
architecture = "unet"
channels = [4, 8]

[validation]
images = 1
size = 48

[[phase]]
name = "only"
epochs = 1
steps_per_epoch = 3
batch_size = 1
crop = 32
learning_rate = 3e-3
seed = 1
"""


def tiny_recipe(folder: Path, name: str) -> Path:
    """:data:`TINY_RECIPE` named ``name``, written as ``folder``/``name``.toml."""
    path = Path(folder) / f"{name}.toml"
    path.write_text(TINY_RECIPE.format(name=name))
    return path


def two_images_detected_on_a(viewer, qtbot, frames: int = 3, other_frames: int = 2):
    """Images 'a' and 'b' (another stack, flipped) in ``viewer``, the Particle detection dock on 'a', detected."""
    viewer.add_image(small_stack(frames, 64), name="a")
    viewer.add_image(small_stack(other_frames, 64)[:, ::-1].copy(), name="b")
    widget = make_widget(viewer, None)
    pick(widget, "a")
    run_detect(widget, qtbot)
    return widget


def link_tracks(widget, qtbot) -> None:
    """The dock's Link, waited for."""
    widget.tracks.link()
    qtbot.waitUntil(lambda: not widget.tracks.running(), timeout=60_000)


def garble_tiff_frames(path: Path, frames) -> Path:
    """The compressed TIFF stack at ``path`` with each of ``frames`` garbled (200 bytes of its data overwritten), so
    that frame no longer decompresses while the others still read."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        offsets = [tif.pages[frame].dataoffsets[0] for frame in frames]
    data = bytearray(path.read_bytes())
    for where in offsets:
        data[where + 2: where + 202] = b"\xff" * 200
    path.write_bytes(bytes(data))
    return path


def damaged_acquisition(path: Path, frames, damaged) -> Path:
    """``frames`` written page by page, zlib-compressed, as an acquisition writes them, with the frames ``damaged``
    garbled (:func:`garble_tiff_frames`)."""
    import tifffile

    with tifffile.TiffWriter(path) as tif:
        for frame in frames:
            tif.write(frame, contiguous=False, compression="zlib")
    return garble_tiff_frames(path, damaged)


# A chains recipe of one phase of two epochs of two steps: a kinds recipe run in seconds.
TINY_CHAINS_RECIPE = """
name = "{name}"
kind = "chains"

[validation]
images = 1
size = 64

[[phase]]
name = "heads"
epochs = 2
steps_per_epoch = 2
batch_size = 2
crop = 48
"""


def four_detected_frames(folder, model):
    """A project of four 64 px generator frames, each saved with its true centres as the network's points (source
    "model", score 0.9), frame 0 accepted whole; and the frames. For tests of what a round learns from each frame."""
    import numpy as np
    import pandas as pd

    from napari_particle_detect.projects.project import Project
    from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

    samples = [synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=s) for s in range(4)]
    project = Project.open(folder / "img.tif", n_frames=4, frame_shape=(64, 64))
    project.ensure_initial_round(model)
    project.remember_detection(12.0, "auto")
    project.remember_threshold(0.5)
    for frame, sample in enumerate(samples):
        c = sample.centres
        project.save_frame(frame, pd.DataFrame({"frame": frame, "y": c[:, 0], "x": c[:, 1], "score": 0.9,
                                                "source": "model"}))
    project.accept_frame(0, project.load_frame(0))
    return project, np.stack([s.image for s in samples])


def stop_at_check(count: int):
    """A cancel that turns true at its ``count``-th question (training asks one before each step)."""
    asked = {"n": 0}

    def cancel() -> bool:
        asked["n"] += 1
        return asked["n"] >= count

    return cancel
