"""What the dock's panels share: the image being worked on, the threshold, the device, who is busy.

No Qt here. Panels take this object, read it and listen to its events; none of them imports
another panel or the widget that holds them (as napari-animation hands its widgets the animation's
key frames). Changes that touch the project go through here, so every panel hears of them.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from pathlib import Path

from psygnal import Signal

from ..errors import ParticleDetectError
from ..files.tracks import LinkOptions
from ..models.registry import read_card, weights_path
from ..projects.frame_merge import FrameStamp, file_stamp
from ..projects.project import RoundInfo
from ..projects.project_state import ProjectState
from .annotation import Annotation
from .notify import report

DEFAULT_THRESHOLD = 0.4
MIN_THRESHOLD, MAX_THRESHOLD = 0.1, 0.99
# How ``round_chosen`` tells a round put in use by another window (or program) on the same project.
CHOSEN_ELSEWHERE = "chosen in another window"
# The round in use and the numbers of the rounds a project has, as a dock last showed them.
RoundsSeen = tuple[int | None, tuple[int, ...]]


@dataclass
class RoundChoices:
    """The Fine-tune panel's settings as the user left them; None: not changed, this computer's defaults
    (finetune.round_defaults), so a round still counts as at the defaults and a remote worker takes its own."""

    steps: int | None = None
    unreviewed: bool | None = None  # also learn from unreviewed frames
    unreviewed_frames: int | None = None
    train_on: str = ""  # blank: this computer; else a dask scheduler's address


@dataclass
class DockChoices:
    """The dock's settings that no project keeps (the device, which frames Detect runs on, whether it shows the
    heatmap, how Link links, how Fine-tune trains): the user's for the whole window, so a dock closed and opened
    again there starts from them, not from the defaults (Device went back to auto: the next round trained on the
    GPU the user had turned away from; Link's search range went back to 5 px; a round's steps went back to 200)."""

    device: str = "auto"
    every_frame: bool = False  # Frames: all unreviewed frames, else the current frame
    heatmap: bool = False
    link: LinkOptions = field(default_factory=LinkOptions)
    drift: bool = False
    fine_tune: RoundChoices = field(default_factory=RoundChoices)
    # The steps set for the other docks' rounds, by kind ("rods", "chains"; the Volume dock's "volume"): another
    # kind chosen and back, or the dock reopened, went back to the kind's default (40 steps asked, 100 run).
    kind_steps: dict[str, int] = field(default_factory=dict)


# The choices of each viewer's dock, by viewer (a weak reference tells a reused id from the viewer itself).
_CHOICES: dict[int, tuple[weakref.ref, DockChoices]] = {}


def viewer_choices(viewer) -> DockChoices:
    """The choices the dock of ``viewer`` keeps across its closing and opening again (fresh ones for a new viewer)."""
    for key in [key for key, (ref, _) in _CHOICES.items() if ref() is None]:
        del _CHOICES[key]  # closed viewers' choices
    ref, choices = _CHOICES.get(id(viewer), (lambda: None, None))
    if ref() is not viewer or choices is None:
        choices = DockChoices()
        _CHOICES[id(viewer)] = (weakref.ref(viewer), choices)
    return choices


class DockState:
    """The dock's shared state. Events:

    - ``annotation_changed(annotation | None)``: another image (and its project) is worked on
    - ``threshold_changed(float)``: the score threshold below which network points are hidden
    - ``project_changed()``: reviewed frames or regions, rounds or the round in use changed
    - ``frame_changed(int)``: the viewer shows another frame
    - ``busy_changed()``: detection or fine-tuning started or ended
    - ``round_chosen(RoundInfo, str)``: a round was put in use (:meth:`use_round`), and how (the Fine-tune
      panel's verdict line says so, wherever it was chosen); ``CHOSEN_ELSEWHERE`` when another window
      or program put it in use (:meth:`notice_rounds_elsewhere`)
    """

    annotation_changed = Signal(object)
    threshold_changed = Signal(float)
    project_changed = Signal()
    frame_changed = Signal(int)
    busy_changed = Signal()
    round_chosen = Signal(object, str)

    def __init__(self, default_model: str | Path | None = None, device: str = "auto",
                 choices: DockChoices | None = None) -> None:
        # The model a new project starts from (its round 1); None: the shipped weights.
        self.default_model = Path(default_model) if default_model is not None else None
        self.choices = choices if choices is not None else DockChoices(device=device)
        self.annotation: Annotation | None = None
        self.threshold = DEFAULT_THRESHOLD
        self._busy: dict[str, bool] = {"detecting": False, "fine-tuning": False}
        # The project's state.json as this dock last looked at it (its stamp), and the round in use and the
        # rounds it showed then: another window's change of them is noticed by a stat of the file.
        self._state_seen: FrameStamp = None
        self._rounds_seen: RoundsSeen = (None, ())
        # Another window's round is noticed as the user acts here; the frame slider first, so the panels
        # that follow it show the frame at that round's threshold.
        self.frame_changed.connect(lambda *_: self.notice_rounds_elsewhere())

    @property
    def device(self) -> str:
        return self.choices.device

    @device.setter
    def device(self, device: str) -> None:
        self.choices.device = device

    # ---- the image worked on -----------------------------------------------------------------
    def set_annotation(self, annotation: Annotation | None) -> None:
        """Work on another image; its project's threshold (or its model's) comes with it."""
        if self.annotation is not None and self.annotation is not annotation:
            try:
                self.annotation.flush()
            except ParticleDetectError as exc:  # said; the switch goes on (a raise left the dock half-switched)
                report(exc)
            self.annotation.changed_callbacks.remove(self.project_changed.emit)
        changed = annotation is not self.annotation
        self.annotation = annotation
        if annotation is not None and changed:
            annotation.changed_callbacks.append(self.project_changed.emit)
        if annotation is not None:
            self.set_threshold(self.project_threshold(), remember=False)
        if changed:
            self._look_at_rounds()
            self.annotation_changed.emit(annotation)
        self.project_changed.emit()

    def require_annotation(self) -> Annotation:
        if self.annotation is None:
            raise ParticleDetectError("open an image first (File > Open, or a sample from File > Open Sample)")
        return self.annotation

    def project_threshold(self) -> float:
        """The threshold the user left this project at; else the one tuned for its model; else the default."""
        project = self.require_annotation().project
        if project.threshold is not None:
            return project.threshold
        return self.model_threshold()

    def model_threshold(self) -> float:
        """The threshold tuned for the round in use (what the model itself calls detected); before the
        first Detect, that of the model the project will start from (the slider showed 0.40 and jumped
        to the shipped model's 0.35 at the first Detect); else the default."""
        project = self.require_annotation().project
        current = project.current_round
        try:
            if current is not None:
                return read_card(project.round_path(current.number).with_suffix(".json")).threshold
            return read_card(weights_path(self.default_model).with_suffix(".json")).threshold
        except ParticleDetectError:
            return DEFAULT_THRESHOLD  # a damaged or missing card is reported when the model is used

    # ---- threshold ---------------------------------------------------------------------------
    def set_threshold(self, value: float, remember: bool = True) -> None:
        """Show network points scoring above ``value``; ``remember`` keeps it in the project."""
        value = round(min(max(float(value), MIN_THRESHOLD), MAX_THRESHOLD), 2)
        changed = value != self.threshold
        self.threshold = value
        if self.annotation is not None:
            self.annotation.set_threshold(value)
            if remember:
                self.annotation.project.remember_threshold(value)
        if changed:
            self.threshold_changed.emit(value)

    def remember_threshold(self) -> None:
        if self.annotation is not None:
            self.annotation.project.remember_threshold(self.threshold)

    # ---- model rounds ------------------------------------------------------------------------
    def ensure_round(self) -> RoundInfo:
        """The round in use; a new project first copies the starting model in as round 1 and takes
        the threshold tuned for it."""
        project = self.require_annotation().project
        fresh = not project.rounds
        info = project.ensure_initial_round(self.default_model)
        if fresh:
            self.adopt_round_threshold(info.number)
            self._look_at_rounds()
            self.project_changed.emit()
        return info

    def use_round(self, number: int, how: str = "chosen") -> RoundInfo:
        """Detect with this round from now on, at the threshold it was left at when it was last in use,
        else the one tuned for it. The frames the round in use before detected keep the threshold they
        were shown at (until detected again): its scores are not the new round's. ``how``: where it was
        chosen (``round_chosen`` carries it)."""
        project = self.require_annotation().project
        info = project.set_current_round(number)
        self.set_threshold(project.threshold if project.threshold is not None else round_threshold(project, number))
        self._look_at_rounds()
        self.project_changed.emit()
        self.round_chosen.emit(info, how)
        return info

    def notice_rounds_elsewhere(self) -> RoundInfo | None:
        """Take in what another window (or program) changed of the project's rounds since this dock last
        looked: a round it put in use is detected with from now on, at the threshold that window left it
        at (its card's where none was kept), and frames another round detected are shown at that round's
        again; rounds it made or deleted are listed. Called as the user acts (the frame slider, Detect,
        the window taking the focus): one stat of state.json when nothing changed, as the project's state
        cache does. Returns the round the other window put in use, if it did."""
        annotation = self.annotation
        if annotation is None:
            return None
        project = annotation.project
        try:
            stamp = file_stamp(project.state_path)  # taken first: a change made while reading is seen next time
            if stamp == self._state_seen:
                return None
            state = project.state()
        except (ParticleDetectError, OSError):
            return None  # a state that cannot be read now is said where the project is used
        if self.is_busy("fine-tuning") and state.current_round not in self._rounds_seen[1]:
            return None  # a new round in use: the one this dock is making, as it ends (use_round follows)
        self._state_seen = stamp
        seen, self._rounds_seen = self._rounds_seen, rounds_seen(state)
        if self._rounds_seen == seen:
            return None  # this dock's own writes (a threshold, a frame detected) or a setting of another window
        chosen = None
        if state.current_round is not None and state.current_round != seen[0]:
            chosen = next(info for info in state.rounds if info.number == state.current_round)
            # That window remembered the threshold: saving it again here would be a second write of the same.
            self.set_threshold(self.project_threshold(), remember=False)
        self.project_changed.emit()
        if chosen is not None and seen[0] is not None:  # a first round made there is no choice to tell of
            self.round_chosen.emit(chosen, CHOSEN_ELSEWHERE)
        return chosen

    def _look_at_rounds(self) -> None:
        """What the dock shows of the project's rounds now, to compare with state.json later (this dock's
        own changes of them are never news)."""
        self._state_seen, self._rounds_seen = None, (None, ())
        if self.annotation is None:
            return
        project = self.annotation.project
        try:
            self._state_seen = file_stamp(project.state_path)
            self._rounds_seen = rounds_seen(project.state())
        except (ParticleDetectError, OSError):
            self._state_seen = None  # looked at again at the next action

    def adopt_round_threshold(self, number: int) -> None:
        self.set_threshold(round_threshold(self.require_annotation().project, number))

    def detected_threshold(self, frame: int) -> float:
        """The threshold tuned for the round whose network points ``frame`` shows (its card's): the round
        that detected it; a deleted round's, the threshold the project keeps for its frames (they are still
        shown at it); else the round in use's (:meth:`model_threshold`)."""
        project = self.require_annotation().project
        number = project.detected_by.get(int(frame))
        current = project.current_round
        if number is not None and (current is None or number != current.number):
            try:
                return round_threshold(project, number)
            except ParticleDetectError:  # a deleted round (its card gone): the threshold kept with its frames
                try:
                    held = project.held_thresholds().get(int(frame))
                except ParticleDetectError:
                    held = None
                if held is not None:
                    return held
        return self.model_threshold()

    # ---- who is busy -------------------------------------------------------------------------
    def set_busy(self, what: str, busy: bool) -> None:
        if self._busy.get(what) != busy:
            self._busy[what] = busy
            self.busy_changed.emit()

    def is_busy(self, what: str | None = None) -> bool:
        return any(self._busy.values()) if what is None else self._busy.get(what, False)


def rounds_seen(state: ProjectState) -> RoundsSeen:
    """The round in use and the rounds of a project's state, to tell whether another window changed them."""
    return state.current_round, tuple(info.number for info in state.rounds)


def round_threshold(project, number: int) -> float:
    """The threshold tuned for a project's round (its card's)."""
    return read_card(project.round_path(number).with_suffix(".json")).threshold
