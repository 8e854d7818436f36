"""The docks' small plots are drawn where they show: a dock's refresh (every change of state) redrew its plots out of
sight and cleared the rounds plot's axes again for the same rounds, 10-20 ms of the interface thread each time."""

from napari_particle_detect._napari.plots import LossPlot, RoundsPlot
from napari_particle_detect._napari.tracks_panel import MsdPlot
from napari_particle_detect.projects.project_state import RoundInfo

ROUNDS = [RoundInfo(number=1, origin="shipped"),
          RoundInfo(number=2, origin="fine-tuned", parent=1, held_out=4, f1=0.91, parent_f1=0.88, improved=True)]


def _counting(plot, name: str) -> list:
    calls = []
    original = getattr(plot, name)
    setattr(plot, name, lambda *a, **k: calls.append(1) or original(*a, **k))
    return calls


def test_a_plot_out_of_sight_is_drawn_when_it_shows(qtbot):
    plot = RoundsPlot()
    qtbot.addWidget(plot)
    draws = _counting(plot, "draw")
    plot.show_rounds(ROUNDS)
    qtbot.wait(50)
    assert draws == []
    plot.show()
    qtbot.waitUntil(lambda: len(draws) == 1)
    assert [text.get_text() for text in plot.axes.get_xticklabels()] == ["002"]
    plot.show_rounds(ROUNDS + [RoundInfo(number=3, origin="fine-tuned", parent=2, held_out=4, f1=0.93,
                                         parent_f1=0.91, improved=True)])
    qtbot.waitUntil(lambda: len(draws) == 2)  # shown: drawn as it changes
    assert plot.shown == [(2, 0.88, 0.91), (3, 0.91, 0.93)]


def test_the_same_rounds_or_no_msd_again_leave_the_axes_as_they_are(qtbot):
    rounds, msd = RoundsPlot(), MsdPlot()
    for plot in (rounds, msd):
        qtbot.addWidget(plot)
    rounds.show_rounds(ROUNDS)
    rounds_cleared, msd_cleared = _counting(rounds.axes, "clear"), _counting(msd.axes, "clear")
    for _ in range(3):
        rounds.show_rounds(list(ROUNDS))
        msd.show_msd(None, None, None)
    assert rounds_cleared == [] and msd_cleared == []
    worse = [ROUNDS[0], RoundInfo(number=2, origin="fine-tuned", parent=1, held_out=4, f1=0.86, parent_f1=0.88,
                                  improved=False)]
    rounds.show_rounds(worse)  # another verdict: drawn again, red
    assert len(rounds_cleared) == 1 and rounds.shown == [(2, 0.88, 0.86)]


def test_a_round_of_one_logged_step_shows_its_loss_as_a_dot(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.start(5)
    plot.add(5, 0.4)  # a 5-step round logs one loss point: a line through it draws nothing
    assert plot.line.get_marker() == "o"
    plot.add(10, 0.3)
    assert plot.line.get_marker() == "None"
