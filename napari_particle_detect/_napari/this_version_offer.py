"""The Rods and chains and volume docks' offer of the model this install ships, for a project whose rounds
start from the one an older version shipped: a line saying so and a button that adds today's model as the
project's next round, in use from then on (shipped_rounds does the work; the sphere dock's Model list offers
it instead)."""

from __future__ import annotations

from collections.abc import Callable

from .notify import show_info
from qtpy.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from ..errors import ParticleDetectError
from ..projects.project import Project, RoundInfo
from ..projects.shipped_rounds import (
    USE_THIS_VERSION, add_this_versions_model, other_version_note, this_versions_model_added, this_versions_offer,
)
from .notify import reports_errors


class ThisVersionOffer(QWidget):
    def __init__(self, project: Callable[[], Project | None], busy: Callable[[], bool],
                 on_added: Callable[[RoundInfo], None]) -> None:
        """``project``: the project the dock shows (None: none); ``busy``: whether a round runs (a round added
        then would not be the one it started from); ``on_added``: the dock shows the round now in use."""
        super().__init__()
        self._project, self._busy, self._on_added = project, busy, on_added
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.button = QPushButton(USE_THIS_VERSION)
        self.button.setToolTip("Copy the model this version ships into the project as its next round: Detect and "
                               "Fine-tune use it from now on (the older one stays a round of its own)")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.note)
        layout.addWidget(self.button)
        self.button.clicked.connect(lambda *_: self.use_this_version())
        self.refresh()

    def refresh(self) -> None:
        """Shown while the project holds another version's shipped model and not this one's."""
        project = self._project()
        try:
            line = this_versions_offer(project) if project is not None else ""
        except ParticleDetectError:
            line = ""  # a project that cannot be read says so where it is used
        self.note.setText(line)
        self.note.setToolTip(other_version_note(project) if line else "")  # the files' whole paths
        self.button.setEnabled(not self._busy())
        self.setVisible(bool(line))

    @reports_errors
    def use_this_version(self) -> None:
        project = self._project()
        if project is None or self._busy():
            return
        info = add_this_versions_model(project)
        show_info(this_versions_model_added(project, info))
        self._on_added(info)
        self.refresh()
