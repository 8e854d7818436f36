"""The training warm-up: what a process's first optimiser imports, imported ahead of time by the docks."""

import subprocess
import sys

import pytest

FIRST_OPTIMISER = """
import os, sys, traceback
import napari_particle_detect, torch
from napari_particle_detect.learning.training import adam
from napari_particle_detect.learning.warm_up import prepare_training, training_prepared
assert not training_prepared()
for warm in (False, True):
    child = os.fork()  # each its own first optimiser, as a fresh process's: one start of Python and torch for both
    if child == 0:
        try:
            if warm:
                prepare_training()
                assert training_prepared()
            before = set(sys.modules)
            optimiser = adam([torch.nn.Parameter(torch.zeros(3))], 1e-3)
            optimiser.step()
            print(len(set(sys.modules) - before), flush=True)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    assert os.waitpid(child, 0)[1] == 0
"""


def modules_the_first_optimiser_imports() -> tuple[int, int]:
    """How many modules a process's first optimiser imports: (cold, after prepare_training)."""
    done = subprocess.run([sys.executable, "-c", FIRST_OPTIMISER], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    cold, warm = map(int, done.stdout.split()[-2:])
    return cold, warm


def test_after_the_warm_up_the_first_optimiser_imports_next_to_nothing():
    # In a fresh process the first optimiser imports hundreds of modules (torch._dynamo: about a second);
    # after prepare_training, next to none.
    cold, warm = modules_the_first_optimiser_imports()
    assert cold > 100
    assert warm < 10


@pytest.mark.parametrize("dock", ["Particle detection", "Rods and chains"])
def test_the_docks_start_the_warm_up_when_they_open(make_napari_viewer, qtbot, monkeypatch, dock):
    from napari_particle_detect._napari import warm_up as dock_warm_up
    from napari_particle_detect.learning import warm_up

    calls = []
    monkeypatch.setattr(dock_warm_up, "_started", False)
    monkeypatch.setattr(warm_up, "training_prepared", lambda: False)
    monkeypatch.setattr(warm_up, "prepare_training", lambda: calls.append("prepared"))
    viewer = make_napari_viewer()
    viewer.window.add_plugin_dock_widget("napari-particle-detect", dock)
    qtbot.waitUntil(lambda: calls == ["prepared"], timeout=10_000)
    viewer.window.add_plugin_dock_widget("napari-particle-detect", dock)  # a second dock: once a process
    qtbot.wait(200)
    assert calls == ["prepared"]


def test_the_3d_dock_starts_the_warm_up_too(make_napari_viewer, qtbot, monkeypatch):
    from napari_particle_detect._napari import warm_up as dock_warm_up
    from napari_particle_detect._napari.volume_panel import VolumeDetectWidget
    from napari_particle_detect.learning import warm_up

    calls = []
    monkeypatch.setattr(dock_warm_up, "_started", False)
    monkeypatch.setattr(warm_up, "training_prepared", lambda: False)
    monkeypatch.setattr(warm_up, "prepare_training", lambda: calls.append("prepared"))
    VolumeDetectWidget(make_napari_viewer())
    qtbot.waitUntil(lambda: calls == ["prepared"], timeout=10_000)


def test_gui_refusing_a_file_while_the_warm_up_runs_exits_with_one_line(tmp_path):
    # The dock starts the warm-up (a second or two of imports) as it opens; a file napari cannot open
    # closes the window at once. As a napari worker the warm-up then aborted the process (exit 134).
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image\n")
    done = subprocess.run([sys.executable, "-m", "napari_particle_detect.cli.main", "gui", str(notes)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "no napari reader opens this kind of file" in done.stderr
    assert "Traceback" not in done.stderr
