"""The time left in a remote round whose scheduler went silent a while (learning.remote's "unanswered" event): the
silent seconds were timed as training, and once the scheduler answered the estimate jumped to many times the round's
real length; or, where the worker trained on through the silence (the laptop's network gone), the backlog of steps
told at once was timed as steps trained in milliseconds, and the estimate fell to seconds. After a silence the
estimate goes on at the rate measured before it, and the steps trained after it."""

from napari_particle_detect.learning.eta import RoundEta

STEPS, STEP_S, SILENCE_S = 100, 0.2, 120.0  # five steps a second; a two-minute silence


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def training(step: int) -> dict:
    return {"phase": "training", "step": step, "steps": STEPS, "loss": 0.1}


def steps_until(eta: RoundEta, clock: Clock, first: int, last: int) -> float | None:
    """Training events every fifth step from ``first`` to ``last``, STEP_S a step; the last estimate."""
    left = None
    for step in range(first, last + 1, 5):
        clock.now += 5 * STEP_S
        left = eta.update(training(step))
    return left


def test_a_stalled_schedulers_silence_is_not_timed_as_training():
    clock = Clock()
    eta = RoundEta(clock)
    steps_until(eta, clock, 5, 30)
    eta.update({"phase": "unanswered", "where": "tcp://gpu-node:8786", "since": "12:00:00"})
    clock.now += SILENCE_S  # the worker waits on the scheduler too: no step meanwhile
    again = eta.update({**training(30), "again": True})
    left = steps_until(eta, clock, 35, 50)
    truth = (STEPS - 50) * STEP_S
    assert again is not None and abs(again - (STEPS - 30) * STEP_S) < 1.0, again
    assert abs(left - truth) < 0.2 * truth, f"{left:.0f} s left, truly {truth:.0f} s"


def test_a_backlog_told_at_once_after_a_silence_is_not_timed_as_training():
    clock = Clock()
    eta = RoundEta(clock)
    steps_until(eta, clock, 5, 30)
    eta.update({"phase": "unanswered", "where": "tcp://gpu-node:8786", "since": "12:00:00"})
    clock.now += 6.0  # the worker trained on: steps 35 to 60, told together once the scheduler answers
    for step in range(35, 61, 5):
        clock.now += 0.001
        eta.update(training(step))
    left = steps_until(eta, clock, 65, 75)
    truth = (STEPS - 75) * STEP_S
    assert abs(left - truth) < 0.2 * truth, f"{left:.1f} s left, truly {truth:.1f} s"


def test_fast_steps_after_a_silence_get_an_estimate_again():
    """A fast GPU tells 5 steps every 30 ms: after the backlog, those steps are timed again (a rolling backlog
    window kept treating them as backlog, and the estimate never came back)."""
    from napari_particle_detect.learning.eta import RoundEta

    now = [0.0]
    eta = RoundEta(clock=lambda: now[0])
    steps, step = 2000, 5
    eta.update({"phase": "training", "step": step, "steps": steps})
    now[0] += 10
    eta.update({"phase": "unanswered"})
    for _ in range(10):  # the backlog, told at once
        step += 5
        now[0] += 0.001
        eta.update({"phase": "training", "step": step, "steps": steps})
    for _ in range(300):
        step += 5
        now[0] += 0.03
        left = eta.update({"phase": "training", "step": step, "steps": steps})
    assert left is not None and abs(left - (steps - step) / 5 * 0.03) < 0.2
