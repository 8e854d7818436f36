"""Training's progress as the command line shows it, for every kind (spheres, rods, chains) and for ``train``,
a round and ``recipe`` alike: each epoch's line, and the steps on a progress bar with the time left."""

from __future__ import annotations


def epoch_line(record: dict) -> str:
    """An epoch record as the log says it, of all the run's epochs ("epoch 2/5: ..."): a sphere run's validation F1
    (its record's ``val_f1``), a kind run's validation score at its best threshold. Epoch 0, a starting model scored
    (a kind round's, a later recipe phase's), is no epoch trained and has no loss."""
    from ..learning.training import cut_epoch_note

    if "val_f1" in record:
        return (f"epoch {record['epoch']}/{record['epochs']}{cut_epoch_note(record)}: loss {record['loss']:.5f}, "
                f"validation F1 {record['val_f1']:.4f} ({record['seconds']} s)")
    scored = f"validation score {record['score']:.4f}{rod_f1_note(record)} at threshold {record['threshold']:.2f}"
    if record["epoch"] == 0:
        return f"starting model: {scored}"
    return (f"epoch {record['epoch']}/{record['epochs']}{cut_epoch_note(record)}: loss {record['loss']:.4f}, "
            f"{scored} ({record['seconds']:.0f} s)")


def rod_f1_note(record: dict) -> str:
    """A rods record's F1 beside its validation score (" (rod F1 0.46)"), '' for other kinds: the score, F1 less the
    orientation and length errors, reads below zero all through a short run, which said nothing of the rods found."""
    return f" (rod F1 {record['rod_f1']:.2f})" if "rod_f1" in record else ""


class StepBar:
    """A training run's steps on a progress bar with the time left (tqdm's, from this session's steps), for
    training's ``{"event": "step", ...}`` events (train's and train_kind's): opened at the first, where the run
    stands (the steps before it, a resumed run's earlier sessions' among them, count as done, not in the rate), so a
    refused or finished resume shows none; none with ``quiet``. Events that name a recipe's ``phase`` draw each
    phase on a bar of its own, named after it. While open, log lines print above it; it is closed before the block's
    own last lines."""

    def __init__(self, quiet: bool) -> None:
        self._quiet = quiet
        self._bar = None
        self._phase = None
        self._redirect = None

    def __enter__(self) -> "StepBar":
        from tqdm.contrib.logging import logging_redirect_tqdm

        self._redirect = logging_redirect_tqdm()
        self._redirect.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        # Closed before a Ctrl-C's or a failure's line, not after it as the bar is collected.
        self._close()
        self._redirect.__exit__(*exc)

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def step(self, event: dict) -> None:
        from tqdm import tqdm

        done = (event["epoch"] - 1) * event["steps"] + event["step"]
        if self._bar is not None and event.get("phase") != self._phase:
            self._close()  # the last phase's bar stays on screen, full or where that phase stopped
        if self._bar is None:
            self._phase = event.get("phase")
            # Its first step counted done, not in the rate: it carries the start's one-off costs (as eta.Eta).
            self._bar = tqdm(total=event["epochs"] * event["steps"], initial=done, disable=self._quiet, unit="step",
                             desc=f"phase {self._phase}" if self._phase is not None else None)
        self._bar.update(done - self._bar.n)
        self._bar.set_postfix(epoch=event["epoch"], loss=f"{event['loss']:.4f}")


class RoundBar(StepBar):
    """A round's ``total`` training steps on a progress bar that names what the round is doing (scoring,
    training: rounds.round_phase_label), from fine_tune's and fine_tune_kind's events: opened at the first, so a
    round refused before any work shows none. Its rate and time left are the training steps' own: the work between
    them (preparing, scoring, the teacher's pass, the criterion) is left out of both."""

    def __init__(self, quiet: bool, total: int) -> None:
        super().__init__(quiet)
        self._total = total
        self._stepping = False  # whether the last event was a training step: else the time since is other work

    def _count_untimed(self, step: int) -> None:
        """Steps up to ``step`` counted done but not in the rate (as StepBar's first), and the time since the last
        step left out: it was other work."""
        bar = self._bar
        if bar.disable:  # -q: a disabled tqdm keeps no clock (nor initial)
            bar.n = step
            return
        bar.initial += step - bar.n  # tqdm's closing rate is (n - initial) / elapsed
        bar.n = bar.last_print_n = step
        bar.unpause()

    def event(self, event: dict) -> None:
        from tqdm import tqdm

        from .rounds import round_phase_label

        label = round_phase_label(event)
        if self._bar is None:  # opened with its label: not first drawn as a bar that says nothing
            self._bar = tqdm(total=self._total, disable=self._quiet, unit="step", desc=label)
        if label is not None:
            self._bar.set_description(label, refresh=False)
            if event["phase"] == "scoring":
                self._bar.set_postfix(refresh=False)  # the last training loss is not the new model's score
        if event["phase"] == "training":
            if self._stepping:
                self._bar.update(event["step"] - self._bar.n)
            else:
                # The first steps carry the start's costs, those after the teacher's pass its labelling: timed,
                # the parent's scoring read as "1.9 step/s" where the steps ran at 20.
                self._count_untimed(event["step"])
            self._bar.set_postfix(loss=f"{event['loss']:.4f}", refresh=False)
        elif event["phase"] == "done":
            self._count_untimed(self._bar.total)  # the steps are all trained; scoring came after them
        self._stepping = event["phase"] == "training"
        self._bar.refresh()
