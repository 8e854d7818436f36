"""Cancel clicked in a Fine-tune box: the line said a bare "cancelling…" until the round stopped (seconds for a remote
round), not what was being cancelled nor what became of the project. It names the round and says nothing of it is
saved."""

import threading

from qtpy.QtWidgets import QLabel, QProgressBar, QPushButton

from napari_particle_detect._napari.round_reports import RoundReports


class Box(RoundReports):
    """The widgets and events RoundReports works on, as a Fine-tune box has them, with a round running."""

    def __init__(self) -> None:
        self.status, self.progress, self.cancel_button = QLabel(), QProgressBar(), QPushButton("Cancel")
        self._cancel, self._ended, self.phases = threading.Event(), threading.Event(), []

    def running(self) -> bool:
        return not self._ended.is_set()


def test_cancelling_says_what_is_cancelled_and_that_nothing_is_saved(qtbot):
    box = Box()
    assert not box.cancel()
    said = box.status.text()
    assert "fine-tuning round" in said and "nothing of it is saved" in said, said
    assert not box.cancel_button.isEnabled()
