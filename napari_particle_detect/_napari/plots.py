"""Two small plots for the Fine-tune panel: the loss of the round being trained, live, and the
held-out F1 of every round, before (its parent) and after."""

from __future__ import annotations

from typing import NamedTuple

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from matplotlib.ticker import AutoLocator
from qtpy.QtCore import QTimer

from ..projects.project import RoundInfo

# Readable on napari's dark and light themes alike.
INK = "#9a9a9a"
BETTER, WORSE, BEFORE = "#4caf50", "#e57373", "#9a9a9a"
TITLE_POINTS = 8.0
# Smaller than this a title is no longer read at a glance: it goes on two lines instead.
SMALLEST_TITLE_POINTS = 6.5
# Room left free on each side of a title, in pixels: its first and last letters are not cut by the canvas edge.
TITLE_MARGIN_PX = 3


class SmallPlot(FigureCanvasQTAgg):
    def __init__(self, title: str, height: float = 1.25) -> None:
        figure = Figure(figsize=(3.2, height), dpi=90, layout="constrained")
        figure.patch.set_alpha(0.0)
        super().__init__(figure)
        self.setStyleSheet("background: transparent")
        self.axes = figure.add_subplot()
        self.title = title
        # The figure's title, centred over the canvas: constrained layout keeps the axes' title inside the
        # figure's height only, and centred over axes pushed right by their tick labels it was cut on the right.
        self.heading = figure.suptitle(title, fontsize=TITLE_POINTS, color=INK)
        self._drawn_key: object = None
        self._stale = False  # changed while out of sight: drawn when shown
        self._style()
        self._fit_title()

    def draw_idle(self) -> None:
        """Drawn now where the plot shows, else when it is next shown (its paint event draws what is pending): the
        panels fill their plots in docks not open or scrolled away, at 20 ms of the interface thread a draw."""
        self._stale = not self.isVisible()
        if not self._stale:
            super().draw_idle()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self._stale:
            self.draw_idle()

    def already_shows(self, key: object) -> bool:
        """Whether the plot shows what ``key`` stands for, which it is taken to show from now on: clearing and
        laying out the axes again costs 10-15 ms, and the panels refresh their plots on every change of state."""
        if key == self._drawn_key:
            return True
        self._drawn_key = key
        return False

    def _style(self) -> None:
        axes = self.axes
        axes.set_facecolor("none")
        axes.tick_params(labelsize=7, colors=INK)
        for spine in axes.spines.values():
            spine.set_color(INK)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit_title()

    def _fit_title(self) -> None:
        """The title as large as the canvas's width holds, up to TITLE_POINTS, on two lines where one would be
        smaller than SMALLEST_TITLE_POINTS: two plots share a row of a dock about 400 px wide, where the rounds
        plot's title was cut."""
        room = self.figure.bbox.width - 2 * TITLE_MARGIN_PX * self.device_pixel_ratio
        size = self._title_size(self.title, room)
        if size < SMALLEST_TITLE_POINTS and " " in self.title:
            size = self._title_size(two_lines(self.title), room)
        self.heading.set_fontsize(max(size, SMALLEST_TITLE_POINTS))

    def _title_size(self, text: str, room: float) -> float:
        """About the largest size up to TITLE_POINTS at which ``text`` as the title is at most ``room`` pixels
        wide; below SMALLEST_TITLE_POINTS, a size under it. The title shows ``text`` after."""
        self.heading.set_text(text)
        size = TITLE_POINTS
        renderer = self.get_renderer()
        # A text's width grows about in step with its size; hinted glyphs make it a little more or less.
        while size >= SMALLEST_TITLE_POINTS:
            self.heading.set_fontsize(size)
            width = self.heading.get_window_extent(renderer).width
            if width <= room:
                return size
            size = min(size - 0.25, size * room / width)
        return size


def two_lines(text: str) -> str:
    """``text`` broken at the space nearest its middle."""
    middle = len(text) / 2
    at = min((i for i, c in enumerate(text) if c == " "), key=lambda i: abs(i - middle))
    return text[:at] + "\n" + text[at + 1:]


# The loss curve is redrawn at most this often while a round trains: a draw costs 30-35 ms of the
# interface thread (constrained layout), and drawing on each of a round's 40 progress events took
# 1.4 s of a 2-core CPU from the round itself.
LOSS_REDRAW_MS = 1500


class LossCurve(NamedTuple):
    """A finished round's training loss, kept to be drawn again with its image."""

    total: int  # the steps the round was to train
    steps: tuple[int, ...]
    losses: tuple[float, ...]


class LossPlot(SmallPlot):
    """Training loss against step, redrawn (at most every LOSS_REDRAW_MS) as the round's progress
    events arrive."""

    def __init__(self) -> None:
        super().__init__("training loss")
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(LOSS_REDRAW_MS)
        self._redraw.timeout.connect(self.draw_idle)
        self.steps: list[int] = []
        self.losses: list[float] = []
        self._total = 1
        (self.line,) = self.axes.plot([], [], color=BETTER, linewidth=1.2, markersize=3)
        self._placeholder = self.axes.text(0.5, 0.5, "shown while a round trains", ha="center", va="center",
                                           fontsize=7, color=INK, transform=self.axes.transAxes)
        self.axes.set_xticks([])
        self.axes.set_yticks([])

    def clear(self) -> None:
        """Back to the placeholder, as before any round."""
        self.steps, self.losses = [], []
        self.line.set_data([], [])
        self._placeholder.set_visible(True)
        self.axes.set_xlabel("")
        self.axes.set_xticks([])
        self.axes.set_yticks([])
        self.draw_idle()

    def kept(self) -> LossCurve:
        """The curve drawn, for :meth:`show_curve` to draw again."""
        return LossCurve(self._total, tuple(self.steps), tuple(self.losses))

    def show_curve(self, curve: LossCurve | None) -> None:
        """A curve kept (:meth:`kept`) drawn again at once; None: the placeholder."""
        if curve is None:
            self.clear()
            return
        self.start(curve.total)
        for step, loss in zip(curve.steps, curve.losses):
            self.add(step, loss)

    def start(self, steps: int) -> None:
        self._total = max(1, steps)
        self.steps, self.losses = [], []
        self.line.set_data([], [])
        self._placeholder.set_visible(False)
        self.axes.set_xlabel("step", fontsize=7, color=INK)
        self.axes.set_xlim(0, max(1, steps))
        self.axes.xaxis.set_major_locator(AutoLocator())
        self.axes.yaxis.set_major_locator(AutoLocator())
        self.draw_idle()

    def add(self, step: int, loss: float) -> None:
        self.steps.append(int(step))
        self.losses.append(float(loss))
        self.line.set_data(self.steps, self.losses)
        self.line.set_marker("o" if len(self.steps) == 1 else "None")  # a round of one logged step: a dot, not nothing
        low, high = min(self.losses), max(self.losses)
        pad = 0.05 * (high - low) or 0.05 * abs(high) or 1e-3
        self.axes.set_ylim(low - pad, high + pad)
        if not self._redraw.isActive():
            self._redraw.start()


class RoundsPlot(SmallPlot):
    """Held-out F1 per scored round: its parent's (grey) and its own (green when better, red when not)."""

    def __init__(self) -> None:
        super().__init__("held-out F1 (grey: before)")  # the rounds are the x axis: "per round" took room
        self.shown: list[tuple[int, float | None, float | None]] = []

    def show_rounds(self, rounds: list[RoundInfo]) -> None:
        scored = [r for r in rounds if r.f1 is not None]
        self.shown = [(r.number, r.parent_f1, r.f1) for r in scored]
        if self.already_shows([(*shown, r.improved) for shown, r in zip(self.shown, scored)]):
            return
        axes = self.axes
        axes.clear()
        self._style()
        if not scored:
            axes.text(0.5, 0.5, "no scored round yet", ha="center", va="center", fontsize=7, color=INK,
                      transform=axes.transAxes)
            axes.set_xticks([])
            axes.set_yticks([])
            self.draw_idle()
            return
        numbers = [r.number for r in scored]
        for info in scored:
            colour = BETTER if info.improved is not False else WORSE
            if info.parent_f1 is not None:
                axes.plot([info.number, info.number], [info.parent_f1, info.f1], color=colour, linewidth=1.0)
                axes.plot(info.number, info.parent_f1, "o", markersize=4, markerfacecolor="none",
                          markeredgecolor=BEFORE)
            axes.plot(info.number, info.f1, "o", markersize=5, color=colour)
        axes.plot(numbers, [r.f1 for r in scored], color=INK, linewidth=0.6, linestyle=":")
        values = [v for r in scored for v in (r.f1, r.parent_f1) if v is not None]
        low, high = min(values), max(values)
        pad = max(0.01, 0.1 * (high - low))
        axes.set_ylim(max(0.0, low - pad), min(1.0, high + pad) + 1e-3)
        axes.set_xlim(min(numbers) - 0.5, max(numbers) + 0.5)
        axes.set_xticks(numbers)
        axes.set_xticklabels([f"{n:03d}" for n in numbers])
        self.draw_idle()
