"""A TIFF stack whose middle and last frames are damaged (their compressed data overwritten) could not be worked on in
the Particle detection dock at all: picking it read those frames for the pixels' fingerprint and failed. It now opens,
and Detect all skips both, names them in one line and detects the rest, its bar at N / N. A stack none of whose frames
can be read is refused in the same words by spheres (sized or given a diameter) and by rods."""

import numpy as np
import pytest

from helpers import damaged_acquisition, make_widget, notification_count, notifications_since, run_detect, small_stack
from napari_particle_detect import detect
from napari_particle_detect.cli.gui import open_images
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.io import read_image


_damaged = damaged_acquisition


@pytest.mark.usefixtures("project_home")
def test_the_dock_detects_a_stack_whose_middle_and_last_frames_are_damaged(tmp_path, make_napari_viewer, qtbot,
                                                                           light_model):
    path = _damaged(tmp_path / "movie.tif", (small_stack(5, 64) * 1000).astype(np.uint16), damaged=(2, 4))
    viewer = make_napari_viewer()
    open_images(viewer, [path])  # shown at its middle frame, 2: drawn blank
    seen = notification_count()
    widget = make_widget(viewer, light_model)
    assert widget.annotation is not None, notifications_since(seen)
    run_detect(widget, qtbot)
    assert widget.annotation.project.saved_frames() == [0, 1, 3]
    said = [m for m in notifications_since(seen) if "cannot read frame" in m and "shown blank" not in m]
    assert len(said) == 1 and "cannot read frame 2" in said[0] and "frames 2, 4 skipped, the others detected" in \
        said[0], said
    bar = widget.detect.progress
    assert bar.value() == bar.maximum() == 5
    assert widget.annotation.pixels_replaced() is None


@pytest.mark.parametrize("options", [{}, {"diameter": 6.0}, {"kind": "rods"}])
def test_a_stack_with_no_frame_readable_is_refused_alike(tmp_path, options):
    path = _damaged(tmp_path / "movie.tif", (small_stack(3, 64) * 1000).astype(np.uint16), damaged=(0, 1, 2))
    stack = read_image(path, lazy=True)
    which = "its 3 frames" if not options else "the 3 frames asked for"
    with pytest.raises(ParticleDetectError) as raised:
        detect(stack, device="cpu", name="movie", **options)
    said = str(raised.value)
    assert said.startswith(f"movie: none of {which} can be read (frames 0-2): nothing detected")
    # where no frame's error was said before (sizing, rods), the first one's is named
    assert said.endswith("nothing detected") if options.get("diameter") else "; the first: " in said and "frame 0" in said


@pytest.mark.usefixtures("project_home")
def test_detect_all_past_a_damaged_frame_is_one_run_whose_bar_reaches_every_frame(tmp_path, make_napari_viewer,
                                                                                   qtbot, light_model):
    path = _damaged(tmp_path / "movie.tif", (small_stack(5, 64) * 1000).astype(np.uint16), damaged=(1,))
    viewer = make_napari_viewer()
    open_images(viewer, [path])
    widget = make_widget(viewer, light_model)
    sizings = []
    run = widget.detect.run

    def run_and_follow() -> None:
        run()
        widget.detect.worker.yielded.connect(lambda item: sizings.append(item[2].source))

    widget.detect.run_button.clicked.disconnect()
    widget.detect.run_button.clicked.connect(run_and_follow)
    run_detect(widget, qtbot)
    assert widget.annotation.project.saved_frames() == [0, 2, 3, 4]
    bar = widget.detect.progress
    assert bar.value() == bar.maximum() == 5
    # Every frame sized by the one estimate: the frames after the damaged one were sized as given a diameter.
    assert sizings and set(sizings) == {"estimated"}, sizings
