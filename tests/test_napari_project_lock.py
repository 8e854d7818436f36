"""A project whose lock another program holds (a hung second napari window, a stuck ``train --from``): the
dock says so in a line within a moment instead of freezing the window for half a minute, keeps what it
could not save, and saves it once the project is free; workers and the CLI keep waiting for it."""

import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.projects.project import LOCK_TIMEOUT_S, WINDOW_LOCK_TIMEOUT_S, Project, mark_window_thread

from helpers import make_widget, notification_count, notifications_since, small_stack

# Far under LOCK_TIMEOUT_S: a window that waited for the lock as the CLI does would stall this long and more.
FROZEN_S = 3 * WINDOW_LOCK_TIMEOUT_S
# The window's wait in these tests: what they check holds for any wait far under LOCK_TIMEOUT_S, and each
# held lock costs the tests a few of these.
WINDOW_WAIT_S = 0.3

HOLDER = """
import sys, time
from filelock import FileLock
lock = FileLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


@contextmanager
def held_by_another_program(folder: Path, for_s: float = 600.0):
    """``folder``'s project lock, held by another process (for ``for_s`` seconds at most) while the block runs."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder / ".lock"), str(for_s)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.terminate()
        holder.wait(timeout=10)


@pytest.fixture
def window_wait(monkeypatch) -> float:
    """A window's change waits WINDOW_WAIT_S (the module constant the lock reads) for another program's lock."""
    from napari_particle_detect.projects import project as project_module

    monkeypatch.setattr(project_module, "WINDOW_LOCK_TIMEOUT_S", WINDOW_WAIT_S)
    return WINDOW_WAIT_S


def timed(action) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def _points(*yx) -> pd.DataFrame:
    return pd.DataFrame({"frame": 0, "y": [p[0] for p in yx], "x": [p[1] for p in yx], "score": float("nan"),
                         "source": "added"})


@pytest.mark.usefixtures("project_home")
def test_a_project_held_by_another_program_never_freezes_the_dock_and_loses_nothing(make_napari_viewer, light_model,
                                                                                    window_wait):
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(3, 64), name="cells")
    widget = make_widget(viewer, light_model)
    annotation = widget.annotation
    project = annotation.project
    points = annotation.ensure_points_layer()
    viewer.dims.set_current_step(0, 0)
    points.add([[0, 20, 20], [0, 40, 40]])  # placed by hand, saved at once
    widget.review.accept_and_next()
    assert project.reviewed_frames == [0] and annotation.current_frame() == 1
    assert widget.finetune.run_button.isEnabled()

    with held_by_another_program(project.folder):
        start, placed = notification_count(), time.monotonic()
        with pytest.raises(ParticleDetectError) as placing:  # raised out of napari's event: its error notification
            points.add([[1, 30, 30]])
        waits = {"a point placed": time.monotonic() - placed, "Enter": timed(widget.review.accept_and_next),
                 "Fine-tune": timed(widget.finetune.run_button.click)}
        said = [str(placing.value), *notifications_since(start)]
        print(f"the window waited {waits} (s) while another program held {project.folder / '.lock'}")
        assert max(waits.values()) < FROZEN_S < LOCK_TIMEOUT_S
        # Each said in one line naming the project, that another program has it, and that nothing is lost.
        assert len(said) == 3 and all("\n" not in line and str(project.folder) in line
                                      and "another napari window or program" in line and "nothing is lost" in line
                                      for line in said), said
        assert project.reviewed_frames == [0] and not widget.finetune.running()
        assert 1 not in project.saved_frames()
        assert [1, 30, 30] in points.data.tolist()  # the point stays where it was placed

    # Free again: the point placed meanwhile reaches the disk with the next change, of any frame.
    points.add([[2, 10, 10]])
    assert project.load_frame(1)[["y", "x"]].values.tolist() == [[30, 30]]
    widget.review.accept_and_next()
    assert project.reviewed_frames == [0, 1]


def test_workers_and_the_cli_wait_for_the_project_where_a_window_says_it_is_busy(tmp_path, window_wait):
    project = Project.open(tmp_path / "img.particle-detect", n_frames=1, frame_shape=(64, 64))
    project.save_frame(0, _points((5, 5)))
    outcome: dict[str, object] = {}

    def save(who: str, window: bool) -> None:
        if window:
            mark_window_thread()
        started = time.monotonic()
        try:
            project.save_frame(0, _points((5, 5), (9, 9)))
            outcome[who] = ("saved", time.monotonic() - started)
        except ParticleDetectError as exc:
            outcome[who] = (str(exc), time.monotonic() - started)

    held_s = window_wait + 0.8
    with held_by_another_program(project.folder, for_s=held_s):
        threads = [threading.Thread(target=save, args=(who, who == "window")) for who in ("window", "worker")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=LOCK_TIMEOUT_S)
    said, waited = outcome["window"]
    assert "another napari window or program" in said and str(project.folder) in said
    assert window_wait * 0.9 < waited < held_s
    done, waited = outcome["worker"]
    assert done == "saved" and waited > window_wait  # it waited for the holder to finish
    assert len(project.load_frame(0)) == 2


def dock_with_a_saved_point(make_napari_viewer, light_model):
    """A viewer with the dock on a two-frame image, its project, and its points layer holding one saved point."""
    viewer = make_napari_viewer()
    viewer.add_image(small_stack(2, 64), name="cells")
    widget = make_widget(viewer, light_model)
    points = widget.annotation.ensure_points_layer()
    points.add([[0, 20, 20]])
    return viewer, widget.annotation.project, points


@pytest.mark.usefixtures("project_home")
def test_closing_the_window_waits_for_the_project_to_save_what_it_could_not(make_napari_viewer, light_model,
                                                                             window_wait):
    viewer, project, points = dock_with_a_saved_point(make_napari_viewer, light_model)
    held_s = window_wait + 1.0
    with held_by_another_program(project.folder, for_s=held_s) as holder:
        with pytest.raises(ParticleDetectError):
            points.add([[0, 40, 40]])  # not saved now: the window would not wait
        # Closing is its last chance: it waits, as a worker does, for the holder to finish.
        closing = timed(viewer.close)
        assert holder.poll() is not None  # the holder was done before closing returned
    assert window_wait < closing < LOCK_TIMEOUT_S
    assert sorted(project.load_frame(0)[["y", "x"]].values.tolist()) == [[20, 20], [40, 40]]


@pytest.mark.usefixtures("project_home")
def test_closing_while_the_project_stays_held_says_the_last_edits_were_not_saved(make_napari_viewer, light_model,
                                                                                 monkeypatch, window_wait):
    from napari_particle_detect.projects import project as project_module

    monkeypatch.setattr(project_module, "LOCK_TIMEOUT_S", window_wait + 0.5)  # a hung holder, sooner
    viewer, project, points = dock_with_a_saved_point(make_napari_viewer, light_model)
    with held_by_another_program(project.folder):
        with pytest.raises(ParticleDetectError):
            points.add([[0, 40, 40]])
        start = notification_count()
        viewer.close()
        said = notifications_since(start)
    assert project.load_frame(0)[["y", "x"]].values.tolist() == [[20, 20]]
    assert any("the project is busy" in line for line in said), said
    closed = [line for line in said if "'cells' was closed" in line]
    assert closed and "its last edits could not be saved" in closed[0], said


@pytest.mark.usefixtures("project_home")
def test_closing_an_image_waits_for_the_project_to_save_what_it_could_not(make_napari_viewer, light_model,
                                                                          window_wait):
    viewer, project, points = dock_with_a_saved_point(make_napari_viewer, light_model)
    with held_by_another_program(project.folder, for_s=window_wait + 1.0) as holder:
        with pytest.raises(ParticleDetectError):
            points.add([[0, 40, 40]])  # not saved now: the window would not wait
        closing = timed(lambda: viewer.layers.remove("cells"))  # the image alone; its centres layer stays
        # The holder ran its whole hold (not ended by the block's exit); the edit is saved below, which needed its
        # lock. (poll() right after the close raced the holder's exit: its lock goes before the process does.)
        assert holder.wait(timeout=10) == 0
    assert window_wait < closing < LOCK_TIMEOUT_S
    assert sorted(project.load_frame(0)[["y", "x"]].values.tolist()) == [[20, 20], [40, 40]]
