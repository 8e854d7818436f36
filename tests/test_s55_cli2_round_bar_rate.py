"""A round's progress bar on the command line (``train --from MODEL DATA [--unlabelled FRAMES]``, bars.RoundBar)
times the training steps alone: its first update once read "5/40 [00:02<00:18, 1.87step/s]", the parent's scoring
timed as five steps, and the teacher's pass later swelled the time left the same way."""

from __future__ import annotations

import re

import pytest

from napari_particle_detect.cli.bars import RoundBar

STEPS, STEP_S, AREA_S, TEACHER_FRAME_S = 40, 0.1, 1.0, 5.0  # the clock each kind of work advances


def round_events() -> list[dict]:
    """fine_tune's events, in its order (a training event every fifth step; the teacher's pass halfway)."""
    scoring = [{"phase": "scoring", "model": "parent", "done": d, "total": 3} for d in range(4)]
    training = [{"phase": "training", "step": s, "steps": STEPS, "loss": 0.01} for s in range(5, STEPS + 1, 5)]
    teacher = [{"phase": "teacher", "done": d, "total": 3} for d in range(4)]
    new = [{"phase": "scoring", "model": "new model", "done": d, "total": 3} for d in range(4)]
    half = len(training) // 2
    return ([{"phase": "preparing"}] + scoring + training[:half] + teacher + training[half:] + new
            + [{"phase": "criterion"}, {"phase": "done", "seconds": 1.0}])


def test_the_round_bar_rate_is_the_training_steps_own(monkeypatch, capsys):
    clock = [1000.0]
    monkeypatch.setattr("tqdm.std.time", lambda: clock[0])
    rates, last_step = [], 0
    with RoundBar(False, STEPS) as bar:
        for event in round_events():
            if event["phase"] == "training":
                clock[0] += (event["step"] - last_step) * STEP_S
                last_step = event["step"]
            elif event["phase"] == "teacher" and event["done"]:
                clock[0] += TEACHER_FRAME_S
            elif event["phase"] == "scoring" and event["done"]:
                clock[0] += AREA_S
            bar.event(event)
            if event["phase"] == "training":
                rates.append(bar._bar.format_dict["rate"])
    # The first steps' own time is unknown (they carry the start): no rate yet, rather than the scoring's.
    assert rates[0] is None
    assert rates[1:] == pytest.approx([1 / STEP_S] * (len(rates) - 1))
    shown = re.findall(r"(\d+)/40 \[[^<]*<([^,]*), *([\d.?]+)step/s", capsys.readouterr().err)
    assert shown[-1][2] == f"{1 / STEP_S:.2f}"  # the line the bar leaves: the steps' rate, not the round's
    assert ("20", f"00:0{round(20 * STEP_S)}", f"{1 / STEP_S:.2f}") in shown  # the time left before the teacher
