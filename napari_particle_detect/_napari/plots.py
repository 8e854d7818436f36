"""Two small plots for the Fine-tune panel: the loss of the round being trained, live, and the
held-out F1 of every round, before (its parent) and after."""

from __future__ import annotations

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from matplotlib.ticker import AutoLocator
from qtpy.QtCore import QTimer

from ..projects.project import RoundInfo

# Readable on napari's dark and light themes alike.
INK = "#9a9a9a"
BETTER, WORSE, BEFORE = "#4caf50", "#e57373", "#9a9a9a"


class SmallPlot(FigureCanvasQTAgg):
    def __init__(self, title: str, height: float = 1.25) -> None:
        figure = Figure(figsize=(3.2, height), dpi=90, layout="constrained")
        figure.patch.set_alpha(0.0)
        super().__init__(figure)
        self.setStyleSheet("background: transparent")
        self.axes = figure.add_subplot()
        self.title = title
        self._style()

    def _style(self) -> None:
        axes = self.axes
        axes.set_facecolor("none")
        axes.set_title(self.title, fontsize=8, color=INK)
        axes.tick_params(labelsize=7, colors=INK)
        for spine in axes.spines.values():
            spine.set_color(INK)


# The loss curve is redrawn at most this often while a round trains: a draw costs 30-35 ms of the
# interface thread (constrained layout), and drawing on each of a round's 40 progress events took
# 1.4 s of a 2-core CPU from the round itself.
LOSS_REDRAW_MS = 1500


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
        (self.line,) = self.axes.plot([], [], color=BETTER, linewidth=1.2)
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

    def start(self, steps: int) -> None:
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
        low, high = min(self.losses), max(self.losses)
        pad = 0.05 * (high - low) or 0.05 * abs(high) or 1e-3
        self.axes.set_ylim(low - pad, high + pad)
        if not self._redraw.isActive():
            self._redraw.start()


class RoundsPlot(SmallPlot):
    """Held-out F1 per scored round: its parent's (grey) and its own (green when better, red when not)."""

    def __init__(self) -> None:
        super().__init__("held-out F1 per round (grey: before)")
        self.shown: list[tuple[int, float | None, float | None]] = []

    def show_rounds(self, rounds: list[RoundInfo]) -> None:
        scored = [r for r in rounds if r.f1 is not None]
        self.shown = [(r.number, r.parent_f1, r.f1) for r in scored]
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
