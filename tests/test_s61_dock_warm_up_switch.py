"""The docks' training warm-up (seconds of CPU importing what a first round needs) can be turned off from outside,
by the environment variable its module documents: a session that trains no round (a script, a test) had only a
private flag to set."""

import pytest

from napari_particle_detect._napari import warm_up as dock_warm_up
from napari_particle_detect.learning import warm_up


@pytest.fixture
def warm_ups(monkeypatch):
    """The warm-ups a dock starts in this test (none ran before it, in this process)."""
    calls = []
    monkeypatch.setattr(dock_warm_up, "_started", False)
    monkeypatch.setattr(warm_up, "training_prepared", lambda: False)
    monkeypatch.setattr(warm_up, "prepare_training", lambda: calls.append("prepared"))
    return calls


def test_the_environment_turns_the_docks_warm_up_off(make_napari_viewer, qtbot, monkeypatch, warm_ups):
    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_NO_WARM_UP", "1")
    viewer = make_napari_viewer()
    viewer.window.add_plugin_dock_widget("napari-particle-detect", "Particle detection")
    qtbot.wait(300)
    assert warm_ups == []
    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_NO_WARM_UP", "0")  # '0' leaves it on: the next dock warms up
    viewer.window.add_plugin_dock_widget("napari-particle-detect", "Rods and chains")
    qtbot.waitUntil(lambda: warm_ups == ["prepared"], timeout=5_000)
