"""A project's problems found after those already said are said in their turn, not the first one again."""
from pathlib import Path
from types import SimpleNamespace

from napari.utils.notifications import notification_manager

from napari_particle_detect._napari.notify import say_problems


def test_a_problem_found_later_is_said_not_the_first_again():
    project = SimpleNamespace(folder=Path("img.particle-detect"), problems=["frame 0 damaged"])
    said: dict = {}
    start = len(notification_manager.records)
    say_problems(project, said, "img")
    say_problems(project, said, "img")  # nothing new: nothing said
    project.problems.append("frame 3 damaged")
    say_problems(project, said, "img")
    shown = [str(n.message) for n in notification_manager.records[start:]]
    assert shown == ["img.particle-detect: 1 problem: frame 0 damaged",
                     "img.particle-detect: 1 problem: frame 3 damaged"]
